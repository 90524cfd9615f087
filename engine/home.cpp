#include "engine/home.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#ifndef ERGON_SOURCE_DIR
#define ERGON_SOURCE_DIR ""
#endif

namespace ergon::engine {
namespace fs = std::filesystem;

tl::expected<std::string, std::string> FindHome(const HomeSearch& where) {
  auto holds = [](const fs::path& p) {
    std::error_code ec;
    return !p.empty() && fs::is_directory(p / "evaluators", ec);
  };
  if (!where.env_home.empty()) {
    if (holds(where.env_home)) return fs::weakly_canonical(where.env_home).string();
    return tl::unexpected(fmt::format("ERGON_HOME={} has no evaluators/ folder; unset it or point it at an ergon "
                                      "checkout or install prefix (share/ergon)", where.env_home));
  }
  std::vector<fs::path> tries;
  fs::path exe_dir = fs::path(where.exe_path).parent_path();
  if (!where.exe_path.empty()) tries.push_back(exe_dir.parent_path() / "share" / "ergon");
  if (!where.source_dir.empty()) tries.push_back(where.source_dir);
  if (!where.cwd.empty()) tries.push_back(where.cwd);
  for (fs::path p = exe_dir; !p.empty() && p != p.root_path(); p = p.parent_path()) tries.push_back(p);
  std::string tried;
  for (const auto& p : tries) {
    if (holds(p)) return fs::weakly_canonical(p).string();
    tried += " " + p.string();
  }
  return tl::unexpected("cannot find ergon's evaluators/ folder (tried:" + tried + "); set ERGON_HOME");
}

tl::expected<std::string, std::string> FindHome() {
  HomeSearch w;
  if (const char* h = std::getenv("ERGON_HOME")) w.env_home = h;
  std::error_code ec;
  w.exe_path = fs::read_symlink("/proc/self/exe", ec).string();
  w.source_dir = ERGON_SOURCE_DIR;
  w.cwd = fs::current_path(ec).string();
  return FindHome(w);
}

}  // namespace ergon::engine
