// Turning an evaluation report into what the archive stores: metrics under
// their JSON names, the gate, a fitness (higher is better), the minimised
// objectives for the Pareto front, and a MAP-Elites cell.
#pragma once

#include <string>

#include "archive/archive.h"
#include "evaluators/dally_parity_task.h"
#include "evaluators/sparse_parity_task.h"

namespace ergon::engine {

struct Scored {
  archive::Evaluation evaluation;
  std::vector<double> objectives;
  std::string cell;
};

Scored ScoreDally(const evaluators::DallyEvalReport& r, double gate_recovery = 1.0);
Scored ScoreLearner(const evaluators::LearnEvalReport& r);

// "cost" for dally_parity, "energy_j" (or "wall_s" for the wall meter) for
// learners: the metric a task minimises.
std::string MainMetric(const std::string& task, const archive::Evaluation& e);
std::optional<double> MetricValue(const archive::Evaluation& e, const std::string& name);

// The device an evaluation ran on, in words ("static" for dally).
std::string DeviceFor(const std::string& meter);

}  // namespace ergon::engine
