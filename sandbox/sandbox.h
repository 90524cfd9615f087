// sandbox: run untrusted programs and always come back.
//
// A Sandbox runs one command at a time per call (calls may run concurrently
// from several threads; the object holds no mutable state after Create). Each
// run gets its own process group, rlimits, a wall-clock watchdog that kills
// everything the command started, capped stdout/stderr, a cleared environment
// and, where the machine allows it, bubblewrap namespaces: no network, a
// private pid space, a read-only system, and one writable working directory.
//
// Errors travel as values: Create fails only when no isolation at all can be
// set up; Run fails only when the *host* cannot start the command (e.g. the
// working directory is missing). Anything the command itself does, however
// hostile, is reported in RunResult, never as an error.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include "base/result.h"

#include "base/mutex.h"
#include "sandbox/precompiled_header.h"

namespace ergon::sandbox {

using base::Result;

// Resource limits for one run. Zero means "no limit" for the byte and count
// fields; wall_s must be positive.
struct Limits {
  double wall_s = 10.0;            // watchdog: kill the whole tree after this
  double cpu_s = 10.0;             // RLIMIT_CPU per process (SIGXCPU at soft)
  std::uint64_t address_space = 1ull << 30;  // RLIMIT_AS bytes; 0 = none (CUDA)
  std::uint64_t file_size = 64ull << 20;     // RLIMIT_FSIZE bytes
  std::uint64_t processes = 64;    // RLIMIT_NPROC for the sandbox uid
  std::size_t stdout_cap = 1 << 20;  // bytes kept; more kills the run
  std::size_t stderr_cap = 64 << 10; // bytes kept; more is dropped, run goes on
};

// A trusted party on the other end of a command's stdin and stdout (a
// referee that reveals data only in answer to what the command writes). It
// runs in ergon's own process, on the thread that called Run, so none of its
// work is metered as the command's.
class StdioPeer {
 public:
  virtual ~StdioPeer() = default;
  // What the command can read on stdin from the start.
  virtual std::string Opening() = 0;
  // The command wrote `bytes` on stdout: what it can read next on stdin.
  virtual std::string Answer(std::string_view bytes) = 0;
  // Nothing more will be answered: stdin is closed once the answers are read.
  virtual bool Finished() const = 0;
};

struct RunSpec {
  std::vector<std::string> argv;   // argv[0] is a path or a name found in PATH
  std::string work_dir;            // must exist; the only writable place
  std::optional<std::string> stdin_data;  // given on stdin (else /dev/null)
  // When set (instead of stdin_data), the peer answers on stdin and consumes
  // stdout: RunResult::stdout_text stays empty, and more stdout bytes than
  // limits.stdout_cap still kill the run. The caller keeps it alive.
  StdioPeer* peer = nullptr;
  std::vector<std::pair<std::string, std::string>> env;  // added to the minimum
  // Trusted tools only (a coding-agent CLI): start from ergon's own
  // environment instead of the minimum. Never for candidates.
  bool inherit_environment = false;
  std::vector<std::string> read_only_paths;  // extra paths bound read-only
  std::vector<std::string> devices;          // e.g. /dev/nvidia0 for GPU runs (and /sys is then bound read-only)
  // Paths the command must not see (a task's folder, a corpus). Under
  // bubblewrap nothing outside CandidateSystemView(), the work dir and
  // read_only_paths is there anyway; a masked path inside them gets an
  // empty folder or file laid over it. Under the weaker levels they stay as
  // readable as their permissions allow.
  std::vector<std::string> masked_paths;
  Limits limits;
};

// What happened, in the order a user would ask.
enum class Outcome {
  kOk,             // exited with status 0
  kExitCode,       // exited with a non-zero status
  kSignal,         // killed by a signal it did not get from us
  kTimeout,        // the wall-clock watchdog fired
  kCpuLimit,       // RLIMIT_CPU (SIGXCPU or SIGKILL at the hard limit)
  kMemoryLimit,    // allocation failed under RLIMIT_AS (best evidence)
  kOutputLimit,    // stdout exceeded its cap, or a file exceeded RLIMIT_FSIZE
  kSetupFailed,    // the sandbox could not start the command
  kCancelled,      // Sandbox::Cancel() cut it off (a deadline or a stop, not the command's doing)
};

const char* OutcomeName(Outcome o);

struct RunResult {
  Outcome outcome = Outcome::kSetupFailed;
  int exit_code = -1;      // valid for kOk / kExitCode
  int signal = 0;          // the terminating signal, if any
  double wall_s = 0;
  double user_s = 0;       // CPU time of the whole tree (reaped descendants)
  double sys_s = 0;
  long max_rss_kb = 0;
  double wall_limit_s = 0;  // the limits in force, for Describe
  double cpu_limit_s = 0;
  std::string stdout_text;
  std::string stderr_text;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  std::string isolation;   // which mechanisms were in force, in words

  bool ok() const { return outcome == Outcome::kOk; }
  // One line a user can act on, e.g. "timeout after 2.0 s (limit 2.0 s)".
  std::string Describe() const;
};

// Which isolation a Sandbox uses. Chosen once by probing in Create.
enum class IsolationLevel {
  kBubblewrap,     // user/pid/net/ipc/uts/mount namespaces via bwrap
  kUnshare,        // root without bwrap: util-linux unshare net+pid namespaces
  kRlimitsOnly,    // process group + rlimits; network and files NOT isolated
};

struct SandboxOptions {
  // Force a level (tests of the fallbacks); nullopt = the strongest that works.
  std::optional<IsolationLevel> force_level;
  // When running as root, drop to this uid/gid before exec so RLIMIT_NPROC
  // counts (it is ignored for root) and root-only files stay unreadable.
  unsigned uid = 65534;
  unsigned gid = 65534;
  // RLIMIT_NPROC counts processes per uid: runs at the same time under one uid
  // share one cap, and a fork bomb in one starves the others. So concurrent
  // runs each take their own uid: `uid` for the first, then uid_pool_base,
  // uid_pool_base + 1, ... (unassigned uids; gid stays `gid`). More runs at
  // once than uid_pool share `uid`.
  unsigned uid_pool = 16;
  unsigned uid_pool_base = 2000000000u;
  std::string bwrap_path = "bwrap";
  // The trusted ergon-sandbox-init shim; empty = search next to the binary,
  // in ../libexec/ergon, then in the build tree.
  std::string init_path;
  // Compiles precompile the system headers a candidate includes first, once
  // per set (precompiled_header.h): worth it for a run's many compiles (0.5x
  // to 0.8x per compile), not for one (the first pays ~1-2.5 s to build it).
  bool precompiled_headers = false;
};

class Sandbox {
 public:
  static Result<Sandbox> Create(const SandboxOptions& options = {});

  Result<RunResult> Run(const RunSpec& spec) const;

  IsolationLevel level() const { return level_; }
  // Cuts off every run of this sandbox and its copies, now and from now on
  // (a deadline, a stop): each ends within ~0.1 s as kCancelled. Thread-safe.
  void Cancel() const { cancelled_->store(true); }
  bool cancelled() const { return cancelled_->load(); }
  // e.g. "bubblewrap (user, pid, net, ipc, uts, mount namespaces; uid 65534)"
  std::string DescribeIsolation() const;
  // True when the sandbox drops privileges to options.uid (we are root).
  bool drops_privileges() const { return drop_privileges_; }
  unsigned uid() const { return options_.uid; }
  unsigned gid() const { return options_.gid; }
  // Precompiled headers for candidate compiles, shared by copies
  // (precompiled_header.h).
  PchCache& pch() const { return *pch_; }
  bool precompiled_headers() const { return options_.precompiled_headers; }

 private:
  Sandbox() = default;
  std::vector<std::string> WrapCommand(const RunSpec& spec, int report_fd, unsigned uid) const;
  // Takes a free uid of the pool for one run (see SandboxOptions::uid_pool).
  unsigned AcquireUid() const;
  void ReleaseUid(unsigned uid) const;

  SandboxOptions options_;
  IsolationLevel level_ = IsolationLevel::kRlimitsOnly;
  std::string bwrap_;          // resolved path of bwrap
  bool drop_privileges_ = false;
  // A private, world-readable copy of ergon-sandbox-init (the build tree may
  // sit where the sandbox uid cannot reach); removed with the last copy.
  std::shared_ptr<const std::string> init_copy_;
  // Shared by copies: a copy handed to a task is cancelled with the original.
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
  struct UidPool {
    base::Mutex mu;
    std::vector<bool> busy GUARDED_BY(mu);
  };
  std::shared_ptr<UidPool> uids_ = std::make_shared<UidPool>();
  std::shared_ptr<PchCache> pch_ = std::make_shared<PchCache>();
};

// What a candidate sees of the host at the bubblewrap level: an allow-list,
// not the host minus a list. The toolchain and the system libraries a C++ or
// CUDA program builds and links with, the loader's files and the few /etc
// files a libc reads; a private /tmp, a minimal /dev, its own /proc; then
// the run's work dir (writable), its read_only_paths and devices. Nothing
// else: no /home, /root, /srv, /opt, /var, /mnt, /media, /work, no
// /usr/share (data sets live there), no archive, spool or task folder.
struct ViewEntry {
  std::string path;
  std::string how;  // "read-only", "symlink to usr/bin", "private tmpfs", ...
};
// The host part of that view (the same for every run), in mount order.
std::vector<ViewEntry> CandidateSystemView();

// The /dev/nvidia* nodes of this host (none on a machine without a driver).
std::vector<std::string> NvidiaDeviceNodes();
// Lets a run use the GPU: binds the device nodes, lifts RLIMIT_AS, and passes
// the host's LD_LIBRARY_PATH and CUDA_VISIBLE_DEVICES so the driver is found.
void GrantGpuAccess(RunSpec& spec);

// Creates a fresh private directory under `parent` (default: $TMPDIR or /tmp)
// that the sandbox uid can write. Removing it is the caller's job; see
// ScratchDir for an owner that does.
Result<std::string> MakeScratchDir(const std::string& prefix, unsigned uid, unsigned gid);

// Owns a scratch directory and removes it (recursively) on destruction.
class ScratchDir {
 public:
  static Result<ScratchDir> Create(const Sandbox& sandbox, const std::string& prefix);
  ScratchDir(ScratchDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  ScratchDir& operator=(ScratchDir&&) = delete;
  ScratchDir(const ScratchDir&) = delete;
  ~ScratchDir();
  const std::string& path() const { return path_; }
  // Leaves the directory on disk (for debugging or --emit).
  std::string Release() { return std::exchange(path_, {}); }

 private:
  explicit ScratchDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

}  // namespace ergon::sandbox
