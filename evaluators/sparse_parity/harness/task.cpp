#include "evaluators/sparse_parity/harness/task.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "evaluators/harness_parts.h"
#include "evaluators/sparse_parity/harness/evaluate.h"
#include "evaluators/versions.h"

namespace ergon::evaluators {
namespace {

class SparseParityTask : public Task {
 public:
  using Task::Task;
  std::string Version() const override { return kSparseParityVersion; }

  Measurement Evaluate(const sandbox::Sandbox& sb, const TaskEvalRequest& q) const override {
    LearnEvalRequest l;
    l.source = q.source;
    l.cuda = (q.language.empty() ? spec().language : q.language) == "cuda";
    l.meter = q.meter.empty() ? spec().meter : q.meter;
    l.suite = q.suite;
    l.instances = q.instances ? static_cast<int>(q.instances) : spec().instances;
    l.timeout_s = q.timeout_s > 0 ? q.timeout_s : spec().timeout_s;
    l.spec.n = ParamOr(spec(), "n", l.spec.n);
    l.spec.k = ParamOr(spec(), "k", l.spec.k);
    l.spec.train_rows = ParamOr(spec(), "train_rows", l.spec.train_rows);
    l.spec.test_rows = ParamOr(spec(), "test_rows", l.spec.test_rows);
    l.gate = spec().gate_min;
    const LearnEvalReport r = EvaluateSparseParity(sb, l);
    Measurement m = Outline(r, Version(), r.meter, LearnReportJson(r));
    if (r.ran) {
      m.metrics = {{"accuracy", r.accuracy}, {"wall_s", r.wall_s}, {"cpu_s", r.cpu_s}};
      if (r.energy_j) m.metrics["energy_j"] = *r.energy_j;
      m.components = LearnerComponents(r.meter, r.per_instance.size(), r.components, r.counts, r.profile);
      m.cell = fmt::format("acc:{}|cpu:2^{}", static_cast<int>(r.accuracy * 20),
                           static_cast<int>(std::floor(std::log2(std::max(r.cpu_s, 1e-4) * 1e3))));
      m.text = fmt::format("accuracy {:.4f} ({})  energy {}  wall {:.2f} s  cpu {:.2f} s per instance  meter {}  suite {}",
                           r.accuracy, r.gate_passed ? "gate passed" : "gate FAILED",
                           r.energy_j ? fmt::format("{:.6e} J per instance", *r.energy_j)
                                      : std::string("not measured (wall meter)"),
                           r.wall_s, r.cpu_s, r.meter, r.suite);
      if (r.meter == "cachemodel")
        m.text += ComponentsLine(r.components);
    }
    Judge(m);
    return m;
  }
};

}  // namespace

std::unique_ptr<Task> MakeSparseParityTask(const TaskSpec& spec) { return std::make_unique<SparseParityTask>(spec); }

}  // namespace ergon::evaluators
