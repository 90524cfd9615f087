// Evaluating one candidate on a task, for `ergon eval`, `ergon replay` and
// the search loop: one entry point over every task.
#pragma once

#include <string>

#include "archive/archive.h"
#include "evaluators/task.h"
#include "sandbox/sandbox.h"

namespace ergon::engine {

struct EvalOutcome {
  bool usage_error = false;  // bad meter / suite for this task (exit 2)
  evaluators::Measurement m;
};

// `sandbox` may be null: one is made for this call.
EvalOutcome Evaluate(const evaluators::Task& task, const evaluators::TaskEvalRequest& request,
                     const sandbox::Sandbox* sandbox);

// What the archive stores of a measurement.
archive::Evaluation ToEvaluation(const evaluators::Measurement& m);

// The metric a task minimises, or wall_s when the meter measured no energy.
std::string MainMetric(const evaluators::TaskSpec& spec, const archive::Evaluation& e);

// "accuracy=0.9983, energy_j=2.8360e-02 (gate passed)" in the spec's order.
// A metric for people: a whole number as it is (costs, counts), anything
// else to 4 significant digits. JSON keeps every digit.
std::string FormatMetric(double v);

std::string DescribeMetrics(const evaluators::TaskSpec& spec, const std::optional<archive::Evaluation>& e);

}  // namespace ergon::engine
