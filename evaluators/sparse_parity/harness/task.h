// sparse_parity behind the Task interface: an adapter to EvaluateSparseParity.
#pragma once

#include <memory>

#include "evaluators/task.h"

namespace ergon::evaluators {

std::unique_ptr<Task> MakeSparseParityTask(const TaskSpec& spec);

}  // namespace ergon::evaluators
