#include "evaluators/sparse_parity/harness/task.h"

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
    Measurement m = LearnerMeasurement(EvaluateSparseParity(sb, l), Version(), "sparse_parity");
    Judge(m);
    return m;
  }
};

}  // namespace

std::unique_ptr<Task> MakeSparseParityTask(const TaskSpec& spec) { return std::make_unique<SparseParityTask>(spec); }

}  // namespace ergon::evaluators
