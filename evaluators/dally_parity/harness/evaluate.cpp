#include "evaluators/dally_parity/harness/evaluate.h"

#include <chrono>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "evaluators/dally/ir.h"
#include "evaluators/dally/mask32.h"
#include "evaluators/dally/tool_process.h"
#include "evaluators/work_file.h"

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
  auto ran = RunGenerator(sb, q.source, {q.generator_wall_s, q.generator_cpu_s}, q.memo);
  if (!ran) {
    r.stage = ran.error().stage;
    r.status = ran.error().status;
    r.feedback = ran.error().feedback;
    return r;
  }
  r.compile_s = ran->compile_s;
  r.wall_s = ran->wall_s;
  r.cpu_s = ran->cpu_s;
  r.remembered = ran->remembered;
  r.feedback = ran->stderr_text;
  if (!q.scorer.empty()) {
    auto dir = sandbox::ScratchDir::Create(sb, "ergon-dally-");
    if (!dir) {
      r.stage = "score";
      r.status = dir.error();
      return r;
    }
    return ScoreInProcessOfItsOwn(q, ran->printed, dir->path(), r);
  }
  dally::IrCostProfile profile;
  auto prog = dally::CompileIr(ran->printed, dally::kMask32LineCap, &profile);
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

tl::expected<std::string, std::string> RunDallyGenerator(const sandbox::Sandbox& sb, const std::string& source,
                                                         PrintedPrograms* memo) {
  auto ran = RunGenerator(sb, source, GeneratorLimits{}, memo);
  if (ran) return std::move(ran->printed);
  const GeneratorFailure& f = ran.error();
  if (f.stage == "compile" && !f.feedback.empty()) return tl::unexpected(f.status + ":\n" + f.feedback.substr(0, 2000));
  return tl::unexpected(f.status);
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
  j["remembered"] = r.remembered;
  j["score_s"] = r.score_s;
  j["feedback"] = r.feedback.substr(0, 4096);
  j["isolation"] = r.isolation;
  return j.dump();
}

}  // namespace ergon::evaluators
