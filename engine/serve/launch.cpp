// `ergon serve` hands over to the ergon-serve executable (server.cpp says why).
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/core.h>

#include "engine/commands.h"

namespace ergon::engine {

int CmdServe(const ServeArgs& a) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path exe_dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  std::string program;
  for (const fs::path& p : {exe_dir / "ergon-serve", exe_dir.parent_path() / "libexec" / "ergon" / "ergon-serve"})
    if (::access(p.c_str(), X_OK) == 0) {
      program = p.string();
      break;
    }
  if (program.empty()) {
    fmt::print(stderr, "ergon serve: ergon-serve is not beside {} (build it: cmake --build BUILD --target ergon-serve)\n",
               exe_dir.string());
    return 1;
  }
  std::vector<std::string> args = {program, "--db", a.db, "--host", a.host, "--port", std::to_string(a.port)};
  for (const auto& d : a.tasks_dirs) {
    args.push_back("--tasks");
    args.push_back(d);
  }
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  ::execv(program.c_str(), argv.data());
  fmt::print(stderr, "ergon serve: cannot start {}: {}\n", program, std::strerror(errno));
  return 1;
}

}  // namespace ergon::engine
