// What a learning task reports for one evaluation: each instance's accuracy
// and metered run, and their means. Shared by the tasks whose learners
// write predictions.txt (sparse_parity, fashion_mnist), so they report and
// store alike.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "evaluators/learning/cachegrind_meter.h"
#include "evaluators/learning/energy_profile.h"
#include "evaluators/learning/metered_run.h"

namespace ergon::evaluators::learning {

struct InstanceOutcome {
  bool ok = false;
  std::string status = "ok";
  double accuracy = 0;
  double wall_s = 0, cpu_s = 0;
  std::optional<double> energy_j;
  EnergyBreakdown components;  // cachemodel
  CacheCounts counts;          // cachemodel
  EnergyProfile profile;       // cachemodel
  double idle_w = 0, idle_subtracted_j = 0, update_period_s = 0, window_s = 0, slack_s = 0;  // nvml
};

struct LearnEvalReport {
  bool ran = false;           // compiled, and every instance ran and answered well-formed
  std::string status = "ok";
  std::string stage;          // compile | run | output | meter | data
  double accuracy = 0;        // mean over instances
  bool gate_passed = false;
  std::optional<double> energy_j;  // mean per instance (none for the wall meter)
  double wall_s = 0, cpu_s = 0;    // mean per instance
  EnergyBreakdown components;      // mean per instance
  CacheCounts counts;              // summed over instances
  EnergyProfile profile;           // mean per instance
  std::vector<InstanceOutcome> per_instance;
  std::string meter, suite, feedback, isolation;
  double compile_s = 0;
};

// The run's times and the meter's reading, into `out` (the profile is moved).
void TakeMeasurement(MeteredRun& ran, InstanceOutcome& out);

// The means over r.per_instance, and the gate (mean accuracy >= gate).
void Summarise(LearnEvalReport& r, double gate);

// predictions.txt: exactly `rows` lines, each one integer in [0, classes).
tl::expected<std::vector<int>, std::string> ReadPredictedLabels(const std::string& path, int rows, int classes);

// The report as the archive's JSON; `task` names the task.
std::string LearnReportJson(const LearnEvalReport& r, const std::string& task);

}  // namespace ergon::evaluators::learning
