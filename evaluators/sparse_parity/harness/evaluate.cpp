#include "evaluators/sparse_parity/harness/evaluate.h"

#include "evaluators/learning/prediction_eval.h"

namespace ergon::evaluators {

LearnEvalReport EvaluateSparseParity(const sandbox::Sandbox& sb, const LearnEvalRequest& q) {
  learning::PredictionEval e;
  e.source = q.source;
  e.cuda = q.cuda;
  e.meter = q.meter;
  e.suite = q.suite;
  e.instances = q.instances;
  e.timeout_s = q.timeout_s;
  e.gate = q.gate;
  e.classes = 2;
  e.draw = [&q](std::uint64_t key) -> tl::expected<learning::InstanceData, std::string> {
    const learning::ParityInstance inst = learning::MakeParityInstance(q.spec, key);
    learning::InstanceData d;
    d.files = {{"train.txt", learning::TrainText(q.spec, inst)}, {"test.txt", learning::TestText(q.spec, inst)}};
    d.labels.assign(inst.test_y.begin(), inst.test_y.end());
    return d;
  };
  return learning::EvaluatePredictions(sb, e);
}

}  // namespace ergon::evaluators
