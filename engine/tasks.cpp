#include "engine/tasks.h"

#include "engine/home.h"

namespace ergon::engine {

tl::expected<TaskLookup, std::string> LookupTasks(const std::vector<std::string>& tasks_dirs) {
  auto home = FindHome();
  if (!home) return tl::unexpected(home.error());
  return TaskLookup{*home, evaluators::TaskRegistry::Load(*home, tasks_dirs)};
}

}  // namespace ergon::engine
