// What the built-in harnesses' Task adapters share: a task parameter, the
// Measurement fields every harness report has, and a learner's energy
// breakdown for the archive and the prompt.
#pragma once

#include <cstddef>
#include <string>

#include "evaluators/learning/cachegrind_meter.h"
#include "evaluators/learning/energy_profile.h"
#include "evaluators/learning/learn_report.h"
#include "evaluators/task.h"

namespace ergon::evaluators {

// params[name] as an int, or the fallback.
inline int ParamOr(const TaskSpec& s, const char* name, int fallback) {
  auto it = s.params.find(name);
  return it == s.params.end() ? fallback : static_cast<int>(it->second);
}

// The fields every built-in report shares, as a Measurement.
template <class Report>
Measurement Outline(const Report& r, std::string version, const std::string& meter, std::string json) {
  Measurement m;
  m.ran = r.ran;
  m.stage = r.stage;
  m.error = r.ran ? "" : r.status;
  m.feedback = r.feedback;
  m.evaluator_version = std::move(version);
  m.meter = meter;
  m.device = DeviceFor(meter);
  m.suite = r.suite;
  m.json = std::move(json);
  return m;
}

// A learner's components JSON: instances, and under the cachemodel the
// breakdown and the profile's top 8 functions and lines.
std::string LearnerComponents(const std::string& meter, std::size_t instances, const learning::EnergyBreakdown& c,
                              const learning::CacheCounts& counts, const learning::EnergyProfile& profile);

// The cachemodel's breakdown, as the second line of a learner's text.
std::string ComponentsLine(const learning::EnergyBreakdown& c);

// A predictions.txt task's report as a Measurement (metrics, components,
// cell, text), not yet judged.
Measurement LearnerMeasurement(const learning::LearnEvalReport& r, std::string version, const std::string& task);

}  // namespace ergon::evaluators
