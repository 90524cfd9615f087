#include "engine/evaluate.h"

#include <optional>

#include <fmt/core.h>

#include "evaluators/dally_parity_task.h"
#include "evaluators/sparse_parity_task.h"
#include "sandbox/sandbox.h"

namespace ergon::engine {

EvalOutcome Evaluate(const EvalRequest& q) {
  EvalOutcome o;
  auto usage = [&](std::string why) {
    o.usage_error = true;
    o.error = std::move(why);
    return o;
  };
  if (q.task == "dally_parity" && !q.meter.empty() && q.meter != "dally")
    return usage(fmt::format("task dally_parity is measured by the dally meter only (got --meter {})", q.meter));
  if (q.task == "sparse_parity") {
    const std::string m = q.meter.empty() ? "cachemodel" : q.meter;
    if (m != "cachemodel" && m != "nvml" && m != "wall")
      return usage(fmt::format("unknown meter '{}' (cachemodel | nvml | wall)", m));
    if (q.suite != "dev" && q.suite != "fresh")
      return usage(fmt::format("sparse_parity suites are dev and fresh (got '{}')", q.suite));
  }
  if (q.task != "dally_parity" && q.task != "sparse_parity") return usage(fmt::format("no harness for task '{}'", q.task));

  std::optional<sandbox::Sandbox> own;
  if (!q.sandbox) {
    auto made = sandbox::Sandbox::Create();
    if (!made) {
      o.error = made.error();
      o.stage = "sandbox";
      return o;
    }
    own = std::move(*made);
  }
  const sandbox::Sandbox* sb = q.sandbox ? q.sandbox : &*own;
  // The fields both task reports share.
  auto take = [&](const auto& r) {
    o.ran = r.ran;
    o.error = r.status;
    o.stage = r.stage;
    o.feedback = r.feedback;
  };
  if (q.task == "dally_parity") {
    evaluators::DallyEvalRequest d;
    d.source = q.source;
    d.suite = q.suite;
    d.instances = q.instances;
    d.generator_wall_s = q.timeout_s;
    d.generator_cpu_s = q.timeout_s;
    d.suites_dir = q.home + "/evaluators/dally_parity/suites";
    auto r = evaluators::EvaluateDallyParity(*sb, d);
    take(r);
    o.json = evaluators::DallyReportJson(r);
    if (r.ran)
      o.text = fmt::format("cost {}  recovery {:.6f} ({}/{})  lines {}  suite {}  generator {:.2f} s wall, {:.2f} s cpu  "
                           "compile {:.2f} s  score {:.1f} ms",
                           r.cost, r.recovery, r.correct, r.instances, r.lines, r.suite, r.wall_s, r.cpu_s, r.compile_s,
                           r.score_s * 1e3);
    o.scored = ScoreDally(r);
    return o;
  }
  evaluators::LearnEvalRequest l;
  l.source = q.source;
  l.cuda = q.cuda;
  l.meter = q.meter.empty() ? "cachemodel" : q.meter;
  l.suite = q.suite;
  l.instances = q.instances ? static_cast<int>(q.instances) : 3;
  l.timeout_s = q.timeout_s;
  auto r = evaluators::EvaluateSparseParity(*sb, l);
  take(r);
  o.json = evaluators::LearnReportJson(r);
  if (r.ran) {
    o.text = fmt::format("accuracy {:.4f} ({})  energy {}  wall {:.2f} s  cpu {:.2f} s per instance  meter {}  suite {}",
                         r.accuracy, r.gate_passed ? "gate passed" : "gate FAILED",
                         r.energy_j ? fmt::format("{:.6e} J per instance", *r.energy_j)
                                    : std::string("not measured (wall meter)"),
                         r.wall_s, r.cpu_s, r.meter, r.suite);
    if (r.meter == "cachemodel")
      o.text += fmt::format("\n  components per instance: instructions {:.3e} J, L1 {:.3e} J, LL {:.3e} J, DRAM {:.3e} J",
                            r.components.instructions_j, r.components.l1_j, r.components.ll_j, r.components.dram_j);
  }
  o.scored = ScoreLearner(r);
  return o;
}

}  // namespace ergon::engine
