#include "base/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

extern char** environ;

namespace ergon::base {
namespace {

constexpr std::size_t kMaxOutput = 1 << 20;

// Reads the pipe until end of file or the deadline (nullopt: none); true
// when the deadline came first.
bool Collect(int fd, std::optional<std::chrono::steady_clock::time_point> end, std::string& out) {
  using Clock = std::chrono::steady_clock;
  char buf[4096];
  for (;;) {
    int wait_ms = -1;
    if (end) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*end - Clock::now()).count();
      if (left <= 0) return true;
      wait_ms = static_cast<int>(left);
    }
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, wait_ms);
    if (n <= 0) continue;  // EINTR, or the deadline (checked above)
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    if (out.size() < kMaxOutput) out.append(buf, static_cast<std::size_t>(got));
  }
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& o) {
  ProcessResult r;
  if (argv.empty()) {
    r.error = "no program given";
    return r;
  }
  int fds[2] = {-1, -1};
  // O_CLOEXEC: a child another thread spawns meanwhile must not hold this
  // pipe open (the read would never see end of file).
  if (o.capture && ::pipe2(fds, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (o.capture) {
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    if (o.merge_stderr) posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    else posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  struct sigaction ignore {}, old_int {}, old_term {};
  if (o.outlive_interrupts) {
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGINT, &ignore, &old_int);
    sigaction(SIGTERM, &ignore, &old_term);
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  if (o.env) {
    for (const auto& kv : *o.env) envp.push_back(const_cast<char*>(kv.c_str()));
    envp.push_back(nullptr);
  }
  pid_t pid = -1;
  const int err = posix_spawnp(&pid, args[0], &fa, &attr, args.data(), o.env ? envp.data() : environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (o.capture) ::close(fds[1]);
  if (err == 0) {
    r.started = true;
    using Clock = std::chrono::steady_clock;
    std::optional<Clock::time_point> end;
    if (o.timeout_s > 0)
      end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout_s));
    if (o.capture && Collect(fds[0], end, r.output)) {
      r.timed_out = true;
      ::kill(pid, SIGKILL);
    }
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    r.exited = !r.timed_out && WIFEXITED(st);
    if (r.exited) r.status = WEXITSTATUS(st);
    else r.signal = WIFSIGNALED(st) ? WTERMSIG(st) : SIGKILL;
  } else {
    r.error = argv[0] + ": " + std::strerror(err);
  }
  if (o.capture) ::close(fds[0]);
  if (o.outlive_interrupts) {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
  }
  return r;
}

}  // namespace ergon::base
