// The sparse_parity task: a learner (C++ or CUDA source) is compiled and run
// in the sandbox once per instance, in a fresh directory holding train.txt
// and test.txt; it writes predictions.txt. The trusted harness owns the
// seeds, the labels and the meter; accuracy and energy come from the same
// execution, so a learner that behaves differently when measured cannot pass
// the gate with fake-cheap numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "evaluators/learning/learn_report.h"
#include "evaluators/learning/parity_instance.h"
#include "sandbox/sandbox.h"

namespace ergon::evaluators {

struct LearnEvalRequest {
  std::string source;
  bool cuda = false;                 // .cu learner, compiled with nvcc
  std::string meter = "cachemodel";  // cachemodel | nvml | wall
  std::string suite = "dev";         // dev | fresh
  int instances = 3;
  learning::ParitySpec spec;
  double timeout_s = 300;            // wall and CPU per instance
  double gate = 0.95;                // mean accuracy needed
};

using learning::InstanceOutcome;
using learning::LearnEvalReport;

LearnEvalReport EvaluateSparseParity(const sandbox::Sandbox& sandbox, const LearnEvalRequest& request);

}  // namespace ergon::evaluators
