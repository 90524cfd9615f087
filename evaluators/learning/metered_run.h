// One learner run in the sandbox under a meter: cachemodel (cachegrind
// counts -> joules), nvml (the GPU's counter around the run) or wall. Shared
// by every task that runs learners, so they measure alike.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <tl/expected.hpp>

#include "evaluators/learning/cachegrind_meter.h"
#include "evaluators/learning/energy_profile.h"
#include "evaluators/learning/nvml_meter.h"
#include "sandbox/sandbox.h"

namespace ergon::evaluators::learning {

struct MeteredRun {
  sandbox::RunResult run;
  std::optional<double> energy_j;  // none under the wall meter
  EnergyBreakdown components;      // cachemodel
  CacheCounts counts;              // cachemodel
  EnergyProfile profile;           // cachemodel: by function and by line of the candidate's file
  NvmlReading nvml;                // nvml
  // When the run succeeded but could not be measured (a traced process left
  // no counts, the GPU counter failed): what went wrong. The run then counts
  // as failed at the meter stage.
  std::string meter_error;
};

class LearnerMeter {
 public:
  // meter: cachemodel | nvml | wall. Fails when the meter is unavailable here.
  static tl::expected<LearnerMeter, std::string> Open(const std::string& meter);

  // Runs `spec` (argv, work_dir, limits set by the caller) metered. A GPU
  // meter or `gpu` grants the device nodes. Errors: the host could not start it.
  tl::expected<MeteredRun, std::string> Run(const sandbox::Sandbox& sandbox, sandbox::RunSpec spec, bool gpu) const;

  const std::string& name() const { return meter_; }

 private:
  std::string meter_;
  std::shared_ptr<NvmlMeter> nvml_;
  CachegrindMeter cachegrind_;
};

}  // namespace ergon::evaluators::learning
