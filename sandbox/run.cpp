// Sandbox::Run: spawn with Boost.Process, then supervise with pidfd + poll.
//
// Why not bp::child::wait_for: in Boost 1.74 it waits the full timeout for
// an exited child and swaps the process-wide SIGCHLD handler. We take the
// pid, detach the child object, and own reaping ourselves (wait4 on exactly
// that pid, which also gives the tree's rusage).
#include <utility>  // before Asio/Process, see PLATFORM-NOTES
#include <map>

// Boost 1.74 compiles its vfork launcher only where the feature macros say
// "XOPEN 500 but not POSIX 2008", which no current glibc says, though glibc
// has vfork: without this, bp::posix::use_vfork fails to link.
#ifndef BOOST_POSIX_HAS_VFORK
#define BOOST_POSIX_HAS_VFORK 1
#endif

#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/args.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/start_dir.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/posix.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include "sandbox/sandbox.h"

namespace bp = boost::process;
extern char** environ;

namespace ergon::sandbox {
namespace {

using Clock = std::chrono::steady_clock;

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    Reset();
    fd_ = std::exchange(o.fd_, -1);
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

void SetLimit(int resource, rlim_t soft, rlim_t hard) {
  struct rlimit rl{soft, hard};
  ::setrlimit(resource, &rl);
}

// Runs in the child just before exec: only system calls. The child is made
// with vfork (it shares ergon's memory until exec; a fork would copy the page
// tables of a process holding megabytes of sources, for every run), so
// nothing here may allocate, and privileges drop by raw system calls: glibc's
// setuid would signal every thread of ergon's, whose list the child shares.
struct ChildSetup : bp::extend::handler {
  const Limits* limits;
  int in_fd, out_fd, err_fd, report_fd;
  bool drop;
  unsigned uid, gid;

  template <class Exec>
  void on_exec_setup(Exec&) const {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // ergon dies -> the run dies
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    const Limits& l = *limits;
    if (l.cpu_s > 0) {
      rlim_t s = static_cast<rlim_t>(l.cpu_s + 0.999);
      SetLimit(RLIMIT_CPU, s, s + 1);  // soft < hard: SIGXCPU says "cpu limit"
    }
    if (l.address_space) SetLimit(RLIMIT_AS, l.address_space, l.address_space);
    if (l.file_size) SetLimit(RLIMIT_FSIZE, l.file_size, l.file_size);
    if (l.processes) SetLimit(RLIMIT_NPROC, l.processes, l.processes);
    SetLimit(RLIMIT_CORE, 0, 0);
    if (drop) {
      if (::syscall(SYS_setgroups, 0, nullptr) != 0 || ::syscall(SYS_setgid, gid) != 0 ||
          ::syscall(SYS_setuid, uid) != 0) {
        static const char msg[] = "ergon-sandbox: cannot drop privileges\n";
        (void)!::write(2, msg, sizeof msg - 1);
        ::_exit(126);
      }
    }
    // Nothing of ours leaks into the candidate (bwrap does not close fds).
    ::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
    ::fcntl(report_fd, F_SETFD, 0);  // for ergon-sandbox-init, which re-closes it
  }
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Appends what is readable on fd to buf, keeping at most cap bytes.
// Returns false at EOF or error.
bool Drain(int fd, std::string& buf, std::size_t cap, bool& truncated) {
  char chunk[65536];
  ssize_t n = ::read(fd, chunk, sizeof chunk);
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  if (n == 0) return false;
  std::size_t room = buf.size() < cap ? cap - buf.size() : 0;
  std::size_t keep = std::min<std::size_t>(room, static_cast<std::size_t>(n));
  buf.append(chunk, keep);
  if (keep < static_cast<std::size_t>(n)) truncated = true;
  return true;
}

// Read (and enter, or run where the owner may) for group and others, on a
// path and the files directly in it; build folders are flat. The group bits
// matter: every run shares the sandbox gid, and a matching group's bits
// apply instead of the others' bits.
void OpenForReading(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return;
  auto open_up = [](const std::string& p, const struct stat& s) {
    const bool x = S_ISDIR(s.st_mode) || (s.st_mode & S_IXUSR);
    mode_t want = (s.st_mode & 07777) | S_IRGRP | S_IROTH | (x ? (S_IXGRP | S_IXOTH) : 0);
    if (want != (s.st_mode & 07777)) ::chmod(p.c_str(), want);
  };
  open_up(path, st);
  if (!S_ISDIR(st.st_mode)) return;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
    struct stat fs{};
    if (::lstat(e.path().c_str(), &fs) == 0 && S_ISREG(fs.st_mode)) open_up(e.path().string(), fs);
  }
}

// Hands what is readable on fd to the peer and queues its answer; counts the
// bytes. Returns false at EOF or error.
bool Converse(int fd, StdioPeer& peer, std::string& answers, std::size_t& bytes) {
  char chunk[65536];
  ssize_t n = ::read(fd, chunk, sizeof chunk);
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  if (n == 0) return false;
  bytes += static_cast<std::size_t>(n);
  answers += peer.Answer(std::string_view(chunk, static_cast<std::size_t>(n)));
  return true;
}

bool MentionsOutOfMemory(const std::string& err) {
  return err.find("bad_alloc") != std::string::npos ||
         err.find("Cannot allocate memory") != std::string::npos ||
         err.find("out of memory") != std::string::npos ||
         err.find("memory exhausted") != std::string::npos;
}

// The command's stdin, and with a peer the socket its answers go out on.
struct Stdin {
  Fd in, peer;
  std::string to_peer;  // what the peer says first
};

// stdin from a sealed-in-memory file: no writer thread, no deadlock. With a
// peer, from a socket we write to as its answers come (a socket, not a
// pipe: send(MSG_NOSIGNAL) cannot raise SIGPIPE in ergon when the command
// closes its end). Else /dev/null.
Result<Stdin> OpenStdin(const RunSpec& spec) {
  Stdin s;
  if (spec.peer) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      return tl::unexpected(fmt::format("sandbox: socketpair: {}", std::strerror(errno)));
    s.peer = Fd(sv[0]);
    s.in = Fd(sv[1]);
    ::shutdown(s.in.get(), SHUT_WR);  // the command's stdin only reads
    ::shutdown(s.peer.get(), SHUT_RD);
    ::fcntl(s.peer.get(), F_SETFL, O_NONBLOCK);
    s.to_peer = spec.peer->Opening();
  } else if (spec.stdin_data) {
    s.in = Fd(::memfd_create("ergon-stdin", MFD_CLOEXEC));
    if (s.in.get() < 0) return tl::unexpected(fmt::format("sandbox: memfd: {}", std::strerror(errno)));
    const std::string& d = *spec.stdin_data;
    for (std::size_t off = 0; off < d.size();) {
      ssize_t n = ::write(s.in.get(), d.data() + off, d.size() - off);
      if (n <= 0) return tl::unexpected(fmt::format("sandbox: stdin write: {}", std::strerror(errno)));
      off += static_cast<std::size_t>(n);
    }
    ::lseek(s.in.get(), 0, SEEK_SET);
  } else {
    s.in = Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  }
  return s;
}

// `argv` run by `env -i NAME=VALUE...`: the wrapped command's environment,
// exactly, built here as a map (later entries win), not through
// Boost.Process's environment, whose entries read freed memory as they grow
// (ThreadSanitizer: heap-use-after-free in basic_environment_impl::find
// while a trusted tool's environment was copied in).
std::vector<std::string> WithEnvironment(const RunSpec& spec, const std::vector<std::string>& argv) {
  std::map<std::string, std::string> vars;
  if (spec.inherit_environment)
    for (char** e = environ; *e; ++e) {
      const std::string kv(*e);
      const auto eq = kv.find('=');
      if (eq != std::string::npos && eq > 0) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  vars["PATH"] = spec.inherit_environment && ::getenv("PATH") ? ::getenv("PATH") : "/usr/local/bin:/usr/bin:/bin";
  if (!spec.inherit_environment) vars["HOME"] = spec.work_dir;
  vars["TMPDIR"] = "/tmp";
  vars["LC_ALL"] = "C";
  for (const auto& [k, v] : spec.env) vars[k] = v;
  std::vector<std::string> out = {"/usr/bin/env", "-i"};
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

// The shim's report is the truth about the candidate; bwrap's own status
// folds signals into 128+N and its rusage misses the tree. True when it
// reported (then `status` and r's times are the candidate's).
bool ReadShimReport(int fd, int& status, RunResult& r) {
  char rep[256] = {};
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  const ssize_t rn = ::read(fd, rep, sizeof rep - 1);
  int raw = 0;
  long long ut = 0, st = 0;
  long rss = 0;
  if (rn <= 0 || std::sscanf(rep, "status %d utime_us %lld stime_us %lld maxrss_kb %ld", &raw, &ut, &st, &rss) != 4)
    return false;
  status = raw;
  r.user_s = static_cast<double>(ut) / 1e6;
  r.sys_s = static_cast<double>(st) / 1e6;
  r.max_rss_kb = rss;
  return true;
}

// How a command that ran to its end (not cut off, timed out or flooding)
// ended, from its exit code or signal, its CPU time and its stderr.
Outcome OutcomeOfExit(const RunSpec& spec, const RunResult& r) {
  const int sig = r.signal;
  if (sig == SIGXCPU) return Outcome::kCpuLimit;
  if (sig == SIGXFSZ) return Outcome::kOutputLimit;
  if (sig == SIGKILL && spec.limits.cpu_s > 0 && r.user_s + r.sys_s >= spec.limits.cpu_s) return Outcome::kCpuLimit;
  if ((sig != 0 || r.exit_code != 0) && MentionsOutOfMemory(r.stderr_text)) return Outcome::kMemoryLimit;
  if (sig != 0) return Outcome::kSignal;
  return r.exit_code == 0 ? Outcome::kOk : Outcome::kExitCode;
}

}  // namespace

Result<RunResult> Sandbox::Run(const RunSpec& spec) const {
  if (spec.argv.empty()) return tl::unexpected(std::string("sandbox: empty command"));
  if (spec.limits.wall_s <= 0) return tl::unexpected(std::string("sandbox: wall_s must be > 0"));
  if (::access(spec.work_dir.c_str(), W_OK | X_OK) != 0)
    return tl::unexpected(fmt::format("sandbox: work dir {} is not a writable directory: {}",
                                      spec.work_dir, std::strerror(errno)));

  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return tl::unexpected(fmt::format("sandbox: pipe: {}", std::strerror(errno)));
  Fd out_r(p[0]), out_w(p[1]);
  if (::pipe2(p, O_CLOEXEC) != 0) return tl::unexpected(fmt::format("sandbox: pipe: {}", std::strerror(errno)));
  Fd err_r(p[0]), err_w(p[1]);
  if (::pipe2(p, O_CLOEXEC) != 0) return tl::unexpected(fmt::format("sandbox: pipe: {}", std::strerror(errno)));
  Fd rep_r(p[0]), rep_w(p[1]);

  auto opened_stdin = OpenStdin(spec);
  if (!opened_stdin) return tl::unexpected(opened_stdin.error());
  Fd in_fd = std::move(opened_stdin->in), peer_fd = std::move(opened_stdin->peer);
  std::string to_peer_stdin = std::move(opened_stdin->to_peer);

  // Each concurrent run its own uid, so RLIMIT_NPROC is its own; the work
  // dir goes to that uid (the run writes there).
  struct Lease {
    const Sandbox& sb;
    unsigned uid;
    ~Lease() { sb.ReleaseUid(uid); }
  } lease{*this, AcquireUid()};
  // Whatever uid the folder has now: an earlier run in it (a compile) may
  // have had another of the pool's, and the first uid cannot enter a
  // folder handed to a pool uid.
  struct stat work_st {};
  const bool owned = ::stat(spec.work_dir.c_str(), &work_st) == 0 && work_st.st_uid == lease.uid;
  if ((drop_privileges_ || level_ == IsolationLevel::kUnshare) && !owned)
    if (::chown(spec.work_dir.c_str(), lease.uid, options_.gid) != 0)
      return tl::unexpected(fmt::format("sandbox: cannot hand {} to uid {}: {}", spec.work_dir, lease.uid,
                                        std::strerror(errno)));
  // Read-only paths (a build folder made by an earlier run under another
  // pool uid, its files private to that uid) must be readable, and its
  // programs runnable, by this one.
  if (drop_privileges_ || level_ == IsolationLevel::kUnshare)
    for (const auto& path : spec.read_only_paths) OpenForReading(path);
  const std::vector<std::string> argv = WithEnvironment(spec, WrapCommand(spec, rep_w.get(), lease.uid));
  bp::environment env;  // empty: `env -i` sets the rest

  ChildSetup setup;
  setup.limits = &spec.limits;
  setup.in_fd = in_fd.get();
  setup.out_fd = out_w.get();
  setup.err_fd = err_w.get();
  setup.report_fd = rep_w.get();
  setup.drop = drop_privileges_;
  setup.uid = lease.uid;
  setup.gid = options_.gid;

  RunResult r;
  r.isolation = DescribeIsolation();
  r.wall_limit_s = spec.limits.wall_s;
  r.cpu_limit_s = spec.limits.cpu_s;
  if (cancelled()) {
    r.outcome = Outcome::kCancelled;
    return r;
  }
  const auto start = Clock::now();
  std::error_code ec;
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  bp::child child(bp::exe = argv[0], bp::args = args, bp::env = env,
                  bp::start_dir = spec.work_dir, setup, bp::posix::use_vfork, ec);
  if (ec) {
    r.outcome = Outcome::kSetupFailed;
    r.stderr_text = fmt::format("cannot start {}: {}", argv[0], ec.message());
    return r;
  }
  const pid_t pid = child.id();
  child.detach();  // we reap it below; the bp::child must not
  out_w.Reset();
  err_w.Reset();
  rep_w.Reset();
  in_fd.Reset();

  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  auto kill_tree = [pid] {
    ::kill(-pid, SIGKILL);  // the process group (setpgid(0,0) in the child)
    ::kill(pid, SIGKILL);   // bwrap / unshare: their namespace dies with them
  };

  fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
  fcntl(err_r.get(), F_SETFL, O_NONBLOCK);
  bool out_open = true, err_open = true, exited = false;
  bool timed_out = false, output_cap = false, cut_off = false;
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(spec.limits.wall_s));
  Clock::time_point drain_deadline{};
  const std::size_t out_cap = spec.limits.stdout_cap ? spec.limits.stdout_cap : SIZE_MAX;
  const std::size_t err_cap = spec.limits.stderr_cap ? spec.limits.stderr_cap : SIZE_MAX;
  std::size_t peer_bytes = 0;  // stdout bytes handed to the peer

  while (!exited || out_open || err_open) {
    auto now = Clock::now();
    if (!exited && !timed_out && now >= deadline) {
      timed_out = true;
      kill_tree();
    }
    if (!exited && !cut_off && cancelled()) {
      cut_off = true;
      kill_tree();
    }
    // After the main process is gone, escapees (without a pid namespace)
    // may hold the pipes open: give them a short drain window, then stop.
    if (exited && now >= drain_deadline) break;
    Clock::time_point wake = exited ? drain_deadline : (timed_out ? now + std::chrono::milliseconds(50) : deadline);
    int timeout_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count()) + 1;

    // The peer's answers go out as the command can take them; once it has
    // nothing more to say and all is written, the command sees EOF.
    if (peer_fd.get() >= 0 && !to_peer_stdin.empty()) {
      ssize_t n = ::send(peer_fd.get(), to_peer_stdin.data(), to_peer_stdin.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) to_peer_stdin.erase(0, static_cast<std::size_t>(n));
      else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        to_peer_stdin.clear();  // the command closed its stdin
        peer_fd.Reset();
      }
    }
    if (peer_fd.get() >= 0 && to_peer_stdin.empty() && spec.peer->Finished()) peer_fd.Reset();

    pollfd fds[4];
    int nfds = 0, i_pid = -1, i_out = -1, i_err = -1;
    if (!exited && pidfd.get() >= 0) { i_pid = nfds; fds[nfds++] = {pidfd.get(), POLLIN, 0}; }
    if (peer_fd.get() >= 0 && !to_peer_stdin.empty()) fds[nfds++] = {peer_fd.get(), POLLOUT, 0};
    if (out_open) { i_out = nfds; fds[nfds++] = {out_r.get(), POLLIN, 0}; }
    if (err_open) { i_err = nfds; fds[nfds++] = {err_r.get(), POLLIN, 0}; }
    if (pidfd.get() < 0 && !exited) timeout_ms = std::min(timeout_ms, 20);  // no pidfd: poll wait
    timeout_ms = std::min(timeout_ms, 100);  // notice Cancel() promptly
    int rc = ::poll(fds, static_cast<nfds_t>(nfds), timeout_ms);
    if (rc < 0 && errno != EINTR) break;
    if (rc > 0) {
      if (i_out >= 0 && fds[i_out].revents && spec.peer) {
        out_open = Converse(out_r.get(), *spec.peer, to_peer_stdin, peer_bytes);
        if (peer_bytes > out_cap && !output_cap) {
          r.stdout_truncated = true;
          output_cap = true;
          kill_tree();
        }
      } else if (i_out >= 0 && fds[i_out].revents) {
        out_open = Drain(out_r.get(), r.stdout_text, out_cap, r.stdout_truncated);
        if (r.stdout_truncated && !output_cap) {
          output_cap = true;  // a flood: stop it now rather than at the deadline
          kill_tree();
        }
      }
      if (i_err >= 0 && fds[i_err].revents) err_open = Drain(err_r.get(), r.stderr_text, err_cap, r.stderr_truncated);
      if (i_pid >= 0 && fds[i_pid].revents) exited = true;
    }
    if (!exited && pidfd.get() < 0) {
      siginfo_t si{};
      if (::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid) exited = true;
    }
    if (exited && drain_deadline == Clock::time_point{}) {
      kill_tree();  // anything it left behind in its group
      drain_deadline = Clock::now() + std::chrono::milliseconds(250);
    }
  }

  int status = 0;
  struct rusage ru{};
  while (::wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {}
  r.wall_s = Seconds(Clock::now() - start);
  r.user_s = static_cast<double>(ru.ru_utime.tv_sec) + ru.ru_utime.tv_usec / 1e6;
  r.sys_s = static_cast<double>(ru.ru_stime.tv_sec) + ru.ru_stime.tv_usec / 1e6;
  r.max_rss_kb = ru.ru_maxrss;

  const bool reported = ReadShimReport(rep_r.get(), status, r);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  else if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.outcome = cut_off ? Outcome::kCancelled
              : timed_out ? Outcome::kTimeout
              : output_cap ? Outcome::kOutputLimit
              : !reported ? Outcome::kSetupFailed  // the shim never ran to its end: the sandbox failed
                          : OutcomeOfExit(spec, r);
  if (r.outcome == Outcome::kOk || r.outcome == Outcome::kExitCode) r.signal = 0;
  r.wall_limit_s = spec.limits.wall_s;
  r.cpu_limit_s = spec.limits.cpu_s;
  return r;
}

}  // namespace ergon::sandbox
