#include "evaluators/dally_parity/harness/evaluate.h"

#include <filesystem>
#include <chrono>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "evaluators/dally/ir.h"
#include "evaluators/dally/mask32.h"
#include "base/file.h"

namespace ergon::evaluators {
namespace {
using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

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
