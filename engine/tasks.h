// Finding tasks for a command: ergon's home plus --tasks DIR and $ERGON_TASKS.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "evaluators/task.h"

namespace ergon::engine {

struct TaskLookup {
  std::string home;
  evaluators::TaskRegistry registry;
};

// Errors only when ergon's home cannot be found.
tl::expected<TaskLookup, std::string> LookupTasks(const std::vector<std::string>& tasks_dirs);

}  // namespace ergon::engine
