#include "evaluators/dally/tool_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/core.h>

#include "evaluators/work_file.h"

extern char** environ;

namespace ergon::evaluators::dally {

std::string ErgonBesideThisProgram() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec || self.filename() != "ergon") return "";
  return ::access(self.c_str(), X_OK) == 0 ? self.string() : "";
}

std::string ToolRun::Describe() const {
  return fmt::format("{}: {}", exited ? fmt::format("exited with {}", status) : fmt::format("killed by signal {}", status),
                     err);
}

tl::expected<ToolRun, std::string> RunTool(const std::vector<std::string>& argv, const std::string& stderr_path) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return tl::unexpected(fmt::format("pipe: {}", std::strerror(errno)));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return tl::unexpected(fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)));
  }
  ToolRun r;
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    r.out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exited = WIFEXITED(status);
  r.status = r.exited ? WEXITSTATUS(status) : WTERMSIG(status);
  r.err = ReadWholeFile(stderr_path).value_or("").substr(0, 2000);
  return r;
}

}  // namespace ergon::evaluators::dally
