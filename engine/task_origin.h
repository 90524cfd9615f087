// Where a run's task came from, kept with the run, so that every command
// that reads the run (replay, resume, archive, serve, export) finds a task
// of the user's own without --tasks, and says so when its folder has moved
// or changed since.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "archive/archive.h"
#include "evaluators/task_spec.h"

namespace ergon::engine {

// {"dir": the task's folder, "task_json_sha256": of its task.json}: stored
// in the run's settings under "task_origin".
nlohmann::json TaskOrigin(const evaluators::TaskSpec& spec);

// The task folders the archive's runs came from that still exist, newest
// run first, each once: extra places for a task registry.
std::vector<std::string> RememberedTaskDirs(archive::Archive& archive);

// The same from runs already read.
std::vector<std::string> RememberedTaskDirs(const std::vector<archive::Run>& runs);

// What changed since `run` about its task, in words ("" when nothing, or
// when the run stored no origin): its folder is gone, or its task.json
// differs, or the task is now found elsewhere.
std::string TaskOriginChange(const archive::Run& run, const evaluators::TaskSpec* found_now);

}  // namespace ergon::engine
