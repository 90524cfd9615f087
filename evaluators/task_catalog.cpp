#include "evaluators/task_catalog.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace ergon::evaluators {
namespace fs = std::filesystem;

std::vector<std::string> TasksWithEvaluator() {
  return {"dally_parity", "sparse_parity"};
}

Result<std::vector<TaskInfo>> ListTasks(const std::string& evaluators_dir) {
  std::error_code ec;
  if (!fs::is_directory(evaluators_dir, ec))
    return tl::unexpected(fmt::format("{} is not a directory", evaluators_dir));
  const auto built = TasksWithEvaluator();
  std::vector<TaskInfo> tasks;
  for (const auto& entry : fs::directory_iterator(evaluators_dir, ec)) {
    const fs::path spec = entry.path() / "task.json";
    if (!entry.is_directory() || !fs::exists(spec)) continue;
    std::ifstream in(spec);
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::exception& e) {
      return tl::unexpected(fmt::format("{}: invalid JSON: {}", spec.string(), e.what()));
    }
    TaskInfo t;
    t.name = entry.path().filename().string();
    t.dir = fs::absolute(entry.path()).string();
    for (const char* field : {"summary", "language"}) {
      if (!j.contains(field) || !j[field].is_string())
        return tl::unexpected(fmt::format("{}: missing string field \"{}\"", spec.string(), field));
    }
    t.summary = j["summary"].get<std::string>();
    t.language = j["language"].get<std::string>();
    t.has_evaluator = std::find(built.begin(), built.end(), t.name) != built.end();
    tasks.push_back(std::move(t));
  }
  if (ec) return tl::unexpected(fmt::format("{}: {}", evaluators_dir, ec.message()));
  std::sort(tasks.begin(), tasks.end(), [](const TaskInfo& a, const TaskInfo& b) { return a.name < b.name; });
  return tasks;
}

}  // namespace ergon::evaluators
