#include "evaluators/task_commands.h"

#include "evaluators/dally/commands.h"

namespace ergon::evaluators {

std::vector<TaskCommand> TaskCommands() {
  std::vector<TaskCommand> all;
  for (auto& c : dally::Commands()) all.push_back(std::move(c));
  return all;
}

}  // namespace ergon::evaluators
