// fashion_mnist behind the Task interface: one adapter for the three tiers
// (task.json's params say which).
#pragma once

#include <memory>

#include "evaluators/task.h"

namespace ergon::evaluators {

std::unique_ptr<Task> MakeFashionMnistTask(const TaskSpec& spec);

}  // namespace ergon::evaluators
