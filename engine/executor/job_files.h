// What crosses the spool between the head node and a job: the request (task,
// candidate, meter, suite) and the measurement that comes back. JSON files,
// written whole to a temporary name and renamed, so a reader never sees half.
#pragma once

#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "evaluators/task.h"

namespace ergon::engine {

struct JobRequest {
  std::string task;
  std::vector<std::string> tasks_dirs;
  std::string expected_version;  // the head's evaluator version for the task
  evaluators::TaskEvalRequest request;
};

std::string JobRequestJson(const JobRequest& r);
tl::expected<JobRequest, std::string> ParseJobRequest(const std::string& text);

std::string MeasurementJson(const evaluators::Measurement& m);
tl::expected<evaluators::Measurement, std::string> ParseMeasurement(const std::string& text);

// Writes `text` to path (via path.tmp and a rename). "" or what failed.
std::string WriteWhole(const std::string& path, const std::string& text);

}  // namespace ergon::engine
