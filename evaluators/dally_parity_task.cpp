#include "evaluators/dally_parity_task.h"

#include <chrono>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "evaluators/dally/ir.h"
#include "evaluators/dally/mask32.h"
#include "sandbox/compiler.h"

namespace ergon::evaluators {
namespace {
using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
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
