#include "base/file.h"
#include "base/digest.h"
#include "engine/task_origin.h"

#include <algorithm>
#include <filesystem>

#include <fmt/core.h>

#include "engine/home.h"
#include "genome/genome.h"

namespace ergon::engine {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string Bytes(const fs::path& p) { return base::ReadFile(p.string()).value_or(""); }

std::optional<json> OriginOf(const archive::Run& run) {
  const json st = json::parse(run.settings, nullptr, false);
  if (!st.is_object() || !st.contains("task_origin") || !st["task_origin"].is_object()) return std::nullopt;
  const json& o = st["task_origin"];
  if (!o.contains("dir") || !o["dir"].is_string()) return std::nullopt;
  return o;
}

}  // namespace

json TaskOrigin(const evaluators::TaskSpec& spec) {
  return {{"dir", spec.dir}, {"task_json_sha256", base::Sha256Hex(Bytes(spec.file))}};
}

std::vector<std::string> RememberedTaskDirs(const std::vector<archive::Run>& runs) {
  std::vector<std::string> dirs;
  for (auto r = runs.rbegin(); r != runs.rend(); ++r) {
    const auto o = OriginOf(*r);
    if (!o) continue;
    const std::string dir = (*o)["dir"].get<std::string>();
    std::error_code ec;
    if (fs::is_regular_file(fs::path(dir) / "task.json", ec) && std::find(dirs.begin(), dirs.end(), dir) == dirs.end())
      dirs.push_back(dir);
  }
  return dirs;
}

std::vector<std::string> RememberedTaskDirs(archive::Archive& archive) {
  auto runs = archive.Runs();
  return runs ? RememberedTaskDirs(*runs) : std::vector<std::string>{};
}

std::string TaskOriginChange(const archive::Run& run, const evaluators::TaskSpec* found_now) {
  const auto o = OriginOf(run);
  if (!o) return "";
  const std::string dir = (*o)["dir"].get<std::string>();
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(dir) / "task.json", ec))
    return found_now ? fmt::format("run {}'s task folder {} is gone; using the {} task in {}", run.id, dir, run.task,
                                   found_now->dir)
                     : fmt::format("run {}'s task folder {} is gone (moved? give --tasks DIR)", run.id, dir);
  if (found_now && fs::path(found_now->dir) != fs::path(dir))
    return fmt::format("run {}'s task came from {}; a task of the same name in {} is used instead", run.id, dir,
                       found_now->dir);
  const std::string sha = o->value("task_json_sha256", "");
  if (!sha.empty() && base::Sha256Hex(Bytes(fs::path(dir) / "task.json")) != sha)
    return fmt::format("{}/task.json has changed since run {}", dir, run.id);
  return "";
}

}  // namespace ergon::engine
