// ergon-sandbox-init: the trusted first process inside a sandbox.
//
//   ergon-sandbox-init --report-fd N [--kill-all] -- COMMAND ARGS...
//
// Runs COMMAND as its child, becomes the subreaper of everything COMMAND
// starts, and when COMMAND exits reports on fd N one line:
//   "status S utime_us U stime_us T maxrss_kb M"
// where S is the raw wait status of COMMAND and the times cover every process
// of the tree that was reaped. Why it exists: bubblewrap reports a signal death
// as exit 128+N and loses its children's rusage, so without it neither the
// outcome nor the CPU time of a candidate could be trusted.
//
// With --kill-all (only inside a private pid namespace) it kills whatever
// COMMAND left behind before reaping, so forked workers are counted and die.
// The process is non-dumpable, so the candidate (same uid) can neither ptrace
// it nor open its report fd through /proc.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  int report_fd = -1;
  bool kill_all = false;
  int i = 1;
  for (; i < argc; ++i) {
    if (std::strcmp(argv[i], "--report-fd") == 0 && i + 1 < argc) report_fd = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--kill-all") == 0) kill_all = true;
    else if (std::strcmp(argv[i], "--") == 0) { ++i; break; }
    else break;
  }
  if (report_fd < 0 || i >= argc) {
    std::fprintf(stderr, "usage: ergon-sandbox-init --report-fd N [--kill-all] -- COMMAND ARGS...\n");
    return 125;
  }
  ::prctl(PR_SET_DUMPABLE, 0);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::fcntl(report_fd, F_SETFD, FD_CLOEXEC);  // the candidate never gets it

  pid_t child = ::fork();
  if (child < 0) {
    std::fprintf(stderr, "ergon-sandbox: fork: %s\n", std::strerror(errno));
    return 126;
  }
  if (child == 0) {
    ::prctl(PR_SET_DUMPABLE, 1);  // the candidate may core/ptrace itself, not us
    ::execvp(argv[i], argv + i);
    std::fprintf(stderr, "ergon-sandbox: cannot run %s: %s\n", argv[i], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  for (;;) {
    int st = 0;
    pid_t p = ::waitpid(-1, &st, 0);
    if (p == child) { status = st; break; }
    if (p < 0 && errno != EINTR) break;
  }
  if (kill_all) {
    ::kill(-1, SIGKILL);  // in our pid namespace: everything but us and init
    while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {}
  } else {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {}
  }
  struct rusage ru{};
  ::getrusage(RUSAGE_CHILDREN, &ru);
  char line[160];
  int n = std::snprintf(line, sizeof line, "status %d utime_us %lld stime_us %lld maxrss_kb %ld\n", status,
                        static_cast<long long>(ru.ru_utime.tv_sec) * 1000000 + ru.ru_utime.tv_usec,
                        static_cast<long long>(ru.ru_stime.tv_sec) * 1000000 + ru.ru_stime.tv_usec, ru.ru_maxrss);
  if (n > 0) (void)!::write(report_fd, line, static_cast<size_t>(n));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}
