#include "evaluators/dally_parity_task.h"

#include <chrono>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "evaluators/dally/ir.h"
#include "evaluators/dally/mask32.h"
#include "evaluators/dally/tool_process.h"
#include "evaluators/work_file.h"
#include "sandbox/compiler.h"

namespace ergon::evaluators {
namespace {
using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// `ergon score` on what the generator printed, its JSON read back: the same
// scorer, in a process of its own.
DallyEvalReport ScoreInProcessOfItsOwn(const DallyEvalRequest& q, const std::string& ir, const std::string& dir,
                                       DallyEvalReport& r) {
  const std::string path = dir + "/printed.ir";
  if (!WriteWorkFile(dir, "printed.ir", ir)) {
    r.stage = "score";
    r.status = "cannot write " + path;
    return r;
  }
  std::vector<std::string> argv = {q.scorer, "score", path, "--tier", "mask32", "--suite", q.suite, "--json",
                                   "--profile"};
  if (q.instances) argv.insert(argv.end(), {"--instances", std::to_string(q.instances)});
  auto t1 = Clock::now();
  auto ran = dally::RunTool(argv, dir + "/score.err");
  r.score_s = Since(t1);
  nlohmann::json j;
  if (ran) j = nlohmann::json::parse(ran->out, nullptr, false);
  if (!ran || !j.is_object() || !j.contains("status")) {
    r.stage = "score";
    r.status = "the scorer failed: " + (ran ? ran->Describe() : ran.error());
    return r;
  }
  if (j.value("status", "") != "ok") {
    const bool parse = j.value("stage", "") == "parse";
    r.stage = parse ? "ir" : "score";
    r.status = (parse ? "invalid IR: " : "") + j.value("status", "");
    return r;
  }
  r.cost = j.value("cost", std::uint64_t{0});
  r.lines = j.value("lines", std::size_t{0});
  if (j.contains("profile")) r.profile = j["profile"].dump();
  r.recovery = j.value("recovery", 0.0);
  r.correct = j.value("correct", std::size_t{0});
  r.instances = j.value("instances", std::size_t{0});
  r.ran = true;
  return r;
}

}  // namespace

DallyEvalReport EvaluateDallyParity(const sandbox::Sandbox& sb, const DallyEvalRequest& q) {
  DallyEvalReport r;
  r.suite = q.suite;
  r.isolation = sb.DescribeIsolation();
  auto dir = sandbox::ScratchDir::Create(sb, "ergon-dally-");
  if (!dir) {
    r.status = dir.error();
    r.stage = "compile";
    return r;
  }
  sandbox::CompileRequest creq;
  creq.source = q.source;
  creq.output_dir = dir->path();
  auto t0 = Clock::now();
  auto built = sandbox::Compile(sb, creq);
  r.compile_s = Since(t0);
  if (!built || !built->ok) {
    r.stage = "compile";
    r.status = built ? "the generator does not compile" : built.error();
    if (built) r.feedback = built->diagnostics;
    return r;
  }
  // A 2,000,000-line program is legal: ~20 bytes a line.
  sandbox::RunSpec run;
  run.argv = {built->executable};
  run.work_dir = dir->path();
  run.limits.wall_s = q.generator_wall_s;
  run.limits.cpu_s = q.generator_cpu_s;
  run.limits.address_space = 2ull << 30;
  run.limits.file_size = 16ull << 20;
  run.limits.stdout_cap = 96ull << 20;
  run.limits.stderr_cap = 16 << 10;
  auto ran = sb.Run(run);
  if (!ran) {
    r.stage = "run";
    r.status = ran.error();
    return r;
  }
  r.wall_s = ran->wall_s;
  r.cpu_s = ran->user_s + ran->sys_s;
  r.feedback = ran->stderr_text;
  if (!ran->ok()) {
    r.stage = "run";
    r.status = "the generator failed: " + ran->Describe();
    return r;
  }
  if (!q.scorer.empty()) return ScoreInProcessOfItsOwn(q, ran->stdout_text, dir->path(), r);
  dally::IrCostProfile profile;
  auto prog = dally::CompileIr(ran->stdout_text, dally::kMask32LineCap, &profile);
  if (!prog) {
    r.stage = "ir";
    r.status = "invalid IR: " + prog.error().Describe();
    return r;
  }
  r.cost = prog->cost;
  r.lines = prog->lines;
  r.profile = profile.Json(8);
  auto suite = dally::MakeMaskSuite(q.suite, q.instances, q.suites_dir);
  if (!suite) {
    r.stage = "score";
    r.status = suite.error();
    return r;
  }
  auto t1 = Clock::now();
  auto sc = dally::ScoreMask32(*prog, *suite);
  r.score_s = Since(t1);
  if (!sc) {
    r.stage = "score";
    r.status = sc.error().Describe();
    return r;
  }
  r.recovery = sc->recovery;
  r.correct = sc->correct;
  r.instances = sc->instances;
  r.ran = true;
  return r;
}

tl::expected<std::string, std::string> RunDallyGenerator(const sandbox::Sandbox& sb, const std::string& source) {
  auto dir = sandbox::ScratchDir::Create(sb, "ergon-generator-");
  if (!dir) return tl::unexpected(dir.error());
  sandbox::CompileRequest c;
  c.source = source;
  c.output_dir = dir->path();
  auto built = sandbox::Compile(sb, c);
  if (!built) return tl::unexpected(built.error());
  if (!built->ok) return tl::unexpected("the generator does not compile:\n" + built->diagnostics.substr(0, 2000));
  sandbox::RunSpec run;
  run.argv = {built->executable};
  run.work_dir = dir->path();
  run.limits.wall_s = 120;
  run.limits.cpu_s = 60;
  run.limits.address_space = 2ull << 30;
  run.limits.stdout_cap = 96ull << 20;
  auto ran = sb.Run(run);
  if (!ran) return tl::unexpected(ran.error());
  if (!ran->ok()) return tl::unexpected("the generator failed: " + ran->Describe());
  return ran->stdout_text;
}

std::string DallyReportJson(const DallyEvalReport& r) {
  nlohmann::json j;
  j["status"] = r.ran ? "ok" : r.status;
  j["stage"] = r.stage;
  j["task"] = "dally_parity";
  j["meter"] = "dally";
  j["suite"] = r.suite;
  j["cost"] = r.cost;
  j["recovery"] = r.recovery;
  j["correct"] = r.correct;
  j["instances"] = r.instances;
  j["lines"] = r.lines;
  j["wall_s"] = r.wall_s;
  j["cpu_s"] = r.cpu_s;
  j["compile_s"] = r.compile_s;
  j["score_s"] = r.score_s;
  j["feedback"] = r.feedback.substr(0, 4096);
  j["isolation"] = r.isolation;
  return j.dump();
}

}  // namespace ergon::evaluators
