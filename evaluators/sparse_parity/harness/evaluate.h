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

#include "evaluators/learning/cachegrind_meter.h"
#include "evaluators/learning/energy_profile.h"
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

struct InstanceOutcome {
  bool ok = false;
  std::string status = "ok";
  double accuracy = 0;
  double wall_s = 0, cpu_s = 0;
  std::optional<double> energy_j;
  learning::EnergyBreakdown components;  // cachemodel
  learning::CacheCounts counts;          // cachemodel
  learning::EnergyProfile profile;       // cachemodel
  double idle_w = 0, idle_subtracted_j = 0, update_period_s = 0, window_s = 0, slack_s = 0;  // nvml
};

struct LearnEvalReport {
  bool ran = false;           // compiled, and every instance ran and answered well-formed
  std::string status = "ok";
  std::string stage;          // compile | run | output | meter
  double accuracy = 0;        // mean over instances
  bool gate_passed = false;
  std::optional<double> energy_j;  // mean per instance (none for the wall meter)
  double wall_s = 0, cpu_s = 0;    // mean per instance
  learning::EnergyBreakdown components;  // mean per instance
  learning::CacheCounts counts;          // summed over instances
  learning::EnergyProfile profile;       // mean per instance
  std::vector<InstanceOutcome> per_instance;
  std::string meter, suite, feedback, isolation;
  double compile_s = 0;
};

LearnEvalReport EvaluateSparseParity(const sandbox::Sandbox& sandbox, const LearnEvalRequest& request);

std::string LearnReportJson(const LearnEvalReport& r);

}  // namespace ergon::evaluators
