// The task folders under evaluators/: each holds task.json (the spec), a
// baseline candidate and, once built, its trusted harness.
#pragma once

#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace ergon::evaluators {

template <class T>
using Result = tl::expected<T, std::string>;

struct TaskInfo {
  std::string name;         // folder name, e.g. "sparse_parity"
  std::string summary;      // one line for `ergon tasks`
  std::string language;     // "cpp", "cuda" or "ir-generator"
  std::string dir;          // absolute folder path
  bool has_evaluator = false;  // false: spec present, harness not built yet
};

// Reads every <dir>/*/task.json under `evaluators_dir`, sorted by name.
// A folder with a broken task.json is an error naming the file and the
// field, never silently skipped.
Result<std::vector<TaskInfo>> ListTasks(const std::string& evaluators_dir);

// Names of tasks whose trusted harness this build contains.
std::vector<std::string> TasksWithEvaluator();

}  // namespace ergon::evaluators
