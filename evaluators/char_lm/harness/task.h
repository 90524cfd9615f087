// char_lm behind the Task interface: an adapter to EvaluateCharLm.
#pragma once

#include <memory>

#include "evaluators/task.h"

namespace ergon::evaluators {

std::unique_ptr<Task> MakeCharLmTask(const TaskSpec& spec);

}  // namespace ergon::evaluators
