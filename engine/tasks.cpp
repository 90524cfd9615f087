#include "engine/tasks.h"

#include "engine/home.h"

namespace ergon::engine {

tl::expected<TaskLookup, std::string> LookupTasks(const std::vector<std::string>& tasks_dirs) {
  auto home = FindHome();
  if (!home) return tl::unexpected(home.error());
  return TaskLookup{*home, evaluators::TaskRegistry::Load(*home, tasks_dirs)};
}

std::string LanguageOf(const evaluators::TaskSpec& spec, const std::string& source) {
  if (spec.language == "cpp" && source.find("__global__") != std::string::npos) return "cuda";
  return spec.language;
}

}  // namespace ergon::engine
