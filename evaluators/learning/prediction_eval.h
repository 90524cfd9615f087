// The evaluation every "write predictions.txt" learning task shares: build
// the learner once, then per instance of the suite lay the instance's files
// in a fresh work dir, run the learner there under the meter, and score
// predictions.txt against labels the learner never sees. The task supplies
// only how an instance is drawn from its key.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include "evaluators/learning/learn_report.h"
#include "sandbox/sandbox.h"

namespace ergon::evaluators::learning {

struct InstanceData {
  std::vector<std::pair<std::string, std::string>> files;  // name, bytes: laid in the work dir
  std::vector<int> labels;                                 // the test rows' truth, kept here
};

struct PredictionEval {
  std::string source;
  bool cuda = false;                 // .cu learner, compiled with nvcc
  std::string meter = "cachemodel";  // cachemodel | nvml | wall
  std::string suite = "dev";         // dev | fresh
  int instances = 3;
  double timeout_s = 300;            // wall and CPU per instance
  double gate = 0;                   // mean accuracy needed
  int classes = 2;                   // a prediction is an integer in [0, classes)
  std::vector<std::string> masked_paths;  // where the task's data lies on the host
  // The instance of a key (a suite's seed). Errors: the task's data is broken.
  std::function<tl::expected<InstanceData, std::string>(std::uint64_t key)> draw;
};

LearnEvalReport EvaluatePredictions(const sandbox::Sandbox& sandbox, const PredictionEval& q);

}  // namespace ergon::evaluators::learning
