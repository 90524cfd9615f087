// The MASK32 generator tasks (dally_parity and the mask32_* bands) behind the
// Task interface: an adapter from the generic request to EvaluateDallyParity.
#pragma once

#include <memory>

#include "evaluators/task.h"

namespace ergon::evaluators {

std::unique_ptr<Task> MakeDallyParityTask(const TaskSpec& spec);

}  // namespace ergon::evaluators
