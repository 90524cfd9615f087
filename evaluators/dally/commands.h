// The Dally family's commands: `ergon score` (a program's cost, and its
// recovery or checker verdict) and `ergon optimize-ir` (a cheaper program
// with the same function, verified).
#pragma once

#include <vector>

#include "evaluators/task_commands.h"

namespace ergon::evaluators::dally {

std::vector<TaskCommand> Commands();

}  // namespace ergon::evaluators::dally
