// The tasks whose harness is compiled into ergon, looked up by folder name.
#pragma once

#include <memory>

#include "evaluators/task.h"

namespace ergon::evaluators {

// Null when no built-in harness has that name.
std::unique_ptr<Task> MakeBuiltinTask(const TaskSpec& spec);

}  // namespace ergon::evaluators
