// Choosing and building the isolation around a command.
//
// Preference order: bubblewrap (namespaces, works unprivileged where user
// namespaces are on), then util-linux unshare (root only), then rlimits and a
// process group alone. The level in force is probed once, by running
// /bin/true through it, and named in every RunResult.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>
#include <fmt/format.h>

#include "sandbox/sandbox.h"

namespace ergon::sandbox {
namespace {

std::string FindInPath(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  dirs += ":/usr/bin:/bin:/usr/sbin";
  std::size_t pos = 0;
  while (pos <= dirs.size()) {
    auto next = dirs.find(':', pos);
    if (next == std::string::npos) next = dirs.size();
    std::string candidate = dirs.substr(pos, next - pos) + "/" + name;
    if (next > pos && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    pos = next + 1;
  }
  return "";
}

#ifndef ERGON_SANDBOX_INIT_BUILD_PATH
#define ERGON_SANDBOX_INIT_BUILD_PATH ""
#endif

std::string FindInit(const std::string& configured) {
  namespace fs = std::filesystem;
  std::vector<std::string> tries;
  if (!configured.empty()) tries.push_back(configured);
  std::error_code ec;
  fs::path exe_dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  tries.push_back((exe_dir / "ergon-sandbox-init").string());
  tries.push_back((exe_dir.parent_path() / "libexec" / "ergon" / "ergon-sandbox-init").string());
  tries.push_back(ERGON_SANDBOX_INIT_BUILD_PATH);
  for (const auto& t : tries)
    if (!t.empty() && ::access(t.c_str(), X_OK) == 0) return t;
  return "";
}

// Copies a file in a child process. A writable descriptor of the copy must
// never exist in this process: ergon has threads, a child one of them forks
// meanwhile inherits the descriptor until it execs, and exec of the copy then
// fails with ETXTBSY ("Text file busy"; seen in CI, a run's sandbox failing
// its probe). The child does only async-signal-safe calls.
bool CopyInChild(const std::string& from, const std::string& to) {
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    if (in < 0 || out < 0) ::_exit(1);
    char buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(in, buf, sizeof buf);
      if (n == 0) break;
      if (n < 0) ::_exit(1);
      for (ssize_t off = 0; off < n;) {
        ssize_t w = ::write(out, buf + off, static_cast<std::size_t>(n - off));
        if (w <= 0) ::_exit(1);
        off += w;
      }
    }
    ::_exit(::close(out) == 0 ? 0 : 1);
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

// Copies the shim into a fresh 0755 directory; the returned pointer removes
// it when the last Sandbox copy goes.
Result<std::shared_ptr<const std::string>> CopyInit(const std::string& from) {
  namespace fs = std::filesystem;
  auto dir = MakeScratchDir("ergon-init-", 0, 0);
  if (!dir) return tl::unexpected(dir.error());
  ::chmod(dir->c_str(), 0755);
  std::string to = *dir + "/ergon-sandbox-init";
  if (!CopyInChild(from, to)) return tl::unexpected(fmt::format("cannot copy {} to {}", from, to));
  ::chmod(to.c_str(), 0755);
  return std::shared_ptr<const std::string>(new std::string(to), [](const std::string* p) {
    std::error_code e;
    fs::remove_all(fs::path(*p).parent_path(), e);
    delete p;
  });
}

// The host paths a candidate's toolchain needs, read-only. Root-level
// links of a merged /usr (/bin -> usr/bin) stay links.
constexpr const char* kSystemPaths[] = {
    "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
    "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32", "/usr/libexec", "/usr/include",
    "/usr/local/bin", "/usr/local/lib", "/usr/local/include",
};
// What a libc, the loader and the compilers read from /etc (alternatives:
// /usr/bin/cc and friends point through it).
constexpr const char* kEtcFiles[] = {
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
    "/etc/passwd",      "/etc/group",      "/etc/nsswitch.conf", "/etc/localtime",
};

// The CUDA toolkit: /usr/local/cuda and its versioned folders.
std::vector<std::string> CudaPaths() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/usr/local", ec)) {
    const std::string name = e.path().filename().string();
    if (name == "cuda" || name.rfind("cuda-", 0) == 0) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool IsUnder(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

}  // namespace

std::vector<ViewEntry> CandidateSystemView() {
  std::vector<ViewEntry> view;
  auto add = [&view](const std::string& p) {
    std::error_code ec;
    const auto st = std::filesystem::symlink_status(p, ec);
    if (ec || !std::filesystem::exists(st)) return;
    if (std::filesystem::is_symlink(st)) view.push_back({p, "symlink to " + std::filesystem::read_symlink(p, ec).string()});
    else view.push_back({p, "read-only"});
  };
  for (const char* p : kSystemPaths) add(p);
  for (const auto& p : CudaPaths()) add(p);
  for (const char* p : kEtcFiles) add(p);
  view.push_back({"/dev", "minimal (null, zero, full, random, urandom, tty)"});
  view.push_back({"/proc", "its own (a private pid namespace)"});
  view.push_back({"/tmp", "private tmpfs"});
  return view;
}

Result<Sandbox> Sandbox::Create(const SandboxOptions& options) {
  Sandbox sb;
  sb.options_ = options;
  const bool root = ::geteuid() == 0;
  std::string init = FindInit(options.init_path);
  if (init.empty())
    return tl::unexpected(std::string("sandbox: ergon-sandbox-init not found next to the binary, in "
                                      "../libexec/ergon or in the build tree; rebuild or reinstall ergon"));
  auto copy = CopyInit(init);
  if (!copy) return tl::unexpected("sandbox: " + copy.error());
  sb.init_copy_ = *copy;

  std::vector<IsolationLevel> order;
  if (options.force_level) order = {*options.force_level};
  else order = {IsolationLevel::kBubblewrap, IsolationLevel::kUnshare, IsolationLevel::kRlimitsOnly};

  std::string probe_errors;
  for (IsolationLevel level : order) {
    sb.level_ = level;
    sb.drop_privileges_ = root && level != IsolationLevel::kUnshare;
    if (level == IsolationLevel::kBubblewrap) {
      sb.bwrap_ = FindInPath(options.bwrap_path);
      if (sb.bwrap_.empty()) { probe_errors += "bwrap not found; "; continue; }
    }
    if (level == IsolationLevel::kUnshare) {
      if (!root) { probe_errors += "unshare needs root; "; continue; }
      sb.bwrap_ = FindInPath("unshare");
      if (sb.bwrap_.empty() || FindInPath("setpriv").empty()) { probe_errors += "unshare/setpriv not found; "; continue; }
    }
    // Probe: the real path, with a throwaway work dir.
    auto dir = MakeScratchDir("ergon-probe-", options.uid, options.gid);
    if (!dir) return tl::unexpected(dir.error());
    RunSpec probe;
    probe.argv = {"/bin/true"};
    probe.work_dir = *dir;
    probe.limits.wall_s = 10;
    auto r = sb.Run(probe);
    std::error_code ec;
    std::filesystem::remove_all(*dir, ec);
    if (r && r->ok()) return sb;
    probe_errors += fmt::format("{} probe failed ({}); ", static_cast<int>(level),
                                r ? r->Describe() : r.error());
  }
  return tl::unexpected("sandbox: no isolation level works here: " + probe_errors);
}

unsigned Sandbox::AcquireUid() const {
  if (!drop_privileges_ && level_ != IsolationLevel::kUnshare) return ::geteuid();
  // A trusted tool runs as ergon's own user: never hand it (or the folder it
  // works in) to a pool uid.
  if (options_.uid == ::geteuid()) return options_.uid;
  base::MutexLock l(&uids_->mu);
  if (uids_->busy.size() != options_.uid_pool) uids_->busy.assign(options_.uid_pool, false);
  for (unsigned i = 0; i < uids_->busy.size(); ++i)
    if (!uids_->busy[i]) {
      uids_->busy[i] = true;
      return i == 0 ? options_.uid : options_.uid_pool_base + i - 1;
    }
  return options_.uid;  // more runs at once than the pool: share the first
}

void Sandbox::ReleaseUid(unsigned uid) const {
  base::MutexLock l(&uids_->mu);
  if (uids_->busy.empty()) return;
  if (uid == options_.uid) uids_->busy[0] = false;
  else if (uid >= options_.uid_pool_base && uid - options_.uid_pool_base + 1 < uids_->busy.size())
    uids_->busy[uid - options_.uid_pool_base + 1] = false;
}

std::vector<std::string> Sandbox::WrapCommand(const RunSpec& spec, int report_fd, unsigned run_uid) const {
  std::vector<std::string> a;
  switch (level_) {
    case IsolationLevel::kBubblewrap: {
      a = {bwrap_, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"};
      if (drop_privileges_ || ::geteuid() != 0) {
        unsigned uid = drop_privileges_ ? run_uid : ::geteuid();
        unsigned gid = drop_privileges_ ? options_.gid : ::getegid();
        a.insert(a.end(), {"--unshare-user", "--uid", std::to_string(uid), "--gid", std::to_string(gid)});
      }
      // An allow-list (CandidateSystemView): bubblewrap's root is an empty
      // tmpfs, and only these are put in it.
      std::vector<std::string> visible;
      for (const auto& e : CandidateSystemView()) {
        if (e.how == "read-only") a.insert(a.end(), {"--ro-bind", e.path, e.path});
        else if (e.how.rfind("symlink to ", 0) == 0) a.insert(a.end(), {"--symlink", e.how.substr(11), e.path});
        else continue;
        visible.push_back(e.path);
      }
      a.insert(a.end(), {"--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"});
      a.insert(a.end(), {"--ro-bind", *init_copy_, *init_copy_});
      for (const auto& p : spec.read_only_paths) a.insert(a.end(), {"--ro-bind", p, p});
      visible.insert(visible.end(), spec.read_only_paths.begin(), spec.read_only_paths.end());
      for (const auto& d : spec.devices) a.insert(a.end(), {"--dev-bind", d, d});
      if (!spec.devices.empty()) a.insert(a.end(), {"--ro-bind", "/sys", "/sys"});  // the GPU driver reads it
      // A masked path matters only where something visible holds it.
      for (const auto& m : spec.masked_paths) {
        if (std::none_of(visible.begin(), visible.end(), [&m](const std::string& v) { return IsUnder(m, v); })) continue;
        std::error_code ec;
        if (std::filesystem::is_directory(m, ec)) a.insert(a.end(), {"--tmpfs", m, "--remount-ro", m});
        else if (std::filesystem::exists(m, ec)) a.insert(a.end(), {"--ro-bind", "/dev/null", m});
      }
      a.insert(a.end(), {"--bind", spec.work_dir, spec.work_dir, "--chdir", spec.work_dir, "--clearenv",
                         "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "HOME", spec.work_dir,
                         "--setenv", "TMPDIR", "/tmp", "--setenv", "LC_ALL", "C"});
      for (const auto& [k, v] : spec.env) a.insert(a.end(), {"--setenv", k, v});
      a.push_back("--");
      break;
    }
    case IsolationLevel::kUnshare:
      // net (lo down: nothing reachable) + pid namespace; --kill-child takes
      // the whole namespace down with unshare. setpriv drops to nobody so
      // RLIMIT_NPROC applies.
      a = {bwrap_, "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "--",
           FindInPath("setpriv"), "--reuid", std::to_string(run_uid), "--regid",
           std::to_string(options_.gid), "--clear-groups", "--"};
      break;
    case IsolationLevel::kRlimitsOnly:
      break;
  }
  a.insert(a.end(), {*init_copy_, "--report-fd", std::to_string(report_fd)});
  // Only inside a private pid namespace may the shim kill "everything".
  if (level_ != IsolationLevel::kRlimitsOnly) a.push_back("--kill-all");
  a.push_back("--");
  a.insert(a.end(), spec.argv.begin(), spec.argv.end());
  return a;
}

std::string Sandbox::DescribeIsolation() const {
  std::string who = drop_privileges_ || level_ == IsolationLevel::kUnshare
                        ? fmt::format("uid {} (or its own uid per concurrent run)", options_.uid)
                        : fmt::format("uid {} (not root: no privilege drop)", ::geteuid());
  switch (level_) {
    case IsolationLevel::kBubblewrap:
      return fmt::format(
          "bubblewrap: user, pid, net, ipc, uts, mount namespaces; an allow-list of the host (toolchain, "
          "system libraries, loader files; no home, /srv, /opt, /var, /usr/share), private /tmp, "
          "writable work dir only; {}; rlimits cpu/as/fsize/nproc/core; process group + watchdog", who);
    case IsolationLevel::kUnshare:
      return fmt::format("unshare: net and pid namespaces (no bubblewrap; files NOT isolated: the "
                         "filesystem is as writable as for {}); rlimits; process group + watchdog", who);
    case IsolationLevel::kRlimitsOnly:
      return fmt::format("rlimits + process group only: NO network, pid or file isolation ({})", who);
  }
  return "unknown";
}

Result<std::string> MakeScratchDir(const std::string& prefix, unsigned uid, unsigned gid) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = fmt::format("{}/{}XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) return tl::unexpected(fmt::format("cannot create scratch dir {}: {}", tmpl, std::strerror(errno)));
  std::string path(buf.data());
  // The sandbox uid must be able to write it, and the parent to read it back.
  if (::geteuid() == 0) {
    if (::chown(path.c_str(), uid, gid) != 0)
      return tl::unexpected(fmt::format("cannot chown {}: {}", path, std::strerror(errno)));
  } else {
    ::chmod(path.c_str(), 0700);
  }
  return path;
}

Result<ScratchDir> ScratchDir::Create(const Sandbox& sandbox, const std::string& prefix) {
  auto p = MakeScratchDir(prefix, sandbox.uid(), sandbox.gid());
  if (!p) return tl::unexpected(p.error());
  return ScratchDir(*p);
}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace ergon::sandbox
