// 6. `ergon run` as a person runs it, from a fresh process in a fresh
// folder, its own CPU read from outside: /proc/PID/stat every 20 ms
// (utime + stime: this process's threads, the Dally scorer's among them
// since it runs in-process; not the compilers and candidates it starts).
// Issue 13's targets, each a ratio within one run: the engine's own work
// (sampling, prompts, edits, recording: the run's summary line) under 20%
// of the wall on dally_parity (30 candidates, offline agent, seed 11) and
// under 2% on sparse_parity (the `make run` search, 6 candidates). Each also reports
// the archive's bytes per candidate and the run's peak memory;
// `ergon_bench night` does so for 1,000 dally_parity candidates.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

extern char** environ;

namespace {

struct Busy {
  double wall = 0, own = 0, waited = 0;
  double engine = -1;  // the summary's "engine work" share of the wall, in %
  long peak_rss_kb = 0;  // VmHWM: the process's own peak resident memory
  std::vector<std::pair<double, long>> peak_by_time;  // (seconds in, VmHWM so far)
  int status = -1;
};

// The peak memory reached by `share` of the wall, in MB.
double PeakBy(const Busy& b, double share) {
  long kb = 0;
  for (const auto& [t, hwm] : b.peak_by_time)
    if (t <= share * b.wall) kb = hwm;
  return static_cast<double>(kb) / 1e3;
}

// VmHWM of `pid` in kB, or 0.
long PeakRssKb(pid_t pid) {
  std::ifstream f(fmt::format("/proc/{}/status", pid));
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// utime+stime and cutime+cstime of `pid`, in seconds; false once it is gone.
bool ReadCpu(pid_t pid, double& own, double& waited) {
  std::ifstream f(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(text.substr(close + 2));
  std::vector<std::string> field;
  for (std::string x; rest >> x;) field.push_back(x);
  if (field.size() < 15 || field[0] == "Z") return false;  // fields from state (3rd of stat)
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  own = (std::stod(field[11]) + std::stod(field[12])) / tick;
  waited = (std::stod(field[13]) + std::stod(field[14])) / tick;
  return true;
}

Busy Measure(const std::vector<std::string>& args, const std::string& dir) {
  Busy b;
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, (dir + "/run.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, (dir + "/run.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) return b;
  posix_spawn_file_actions_destroy(&fa);
  for (;;) {
    int st = 0;
    // Read before reaping: once reaped, /proc no longer has it.
    double own = 0, waited = 0;
    if (ReadCpu(pid, own, waited)) {
      b.own = own;
      b.waited = waited;
      b.peak_rss_kb = std::max(b.peak_rss_kb, PeakRssKb(pid));
      b.peak_by_time.emplace_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                                  b.peak_rss_kb);
    }
    if (waitpid(pid, &st, WNOHANG) == pid) {
      b.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  b.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // "engine work (sampling, prompts, edits, recording) 1.23s = 4.5% of wall time"
  std::ifstream out(dir + "/run.out");
  for (std::string line; std::getline(out, line);)
    if (const auto at = line.find("engine work ("); at != std::string::npos)
      if (const auto eq = line.find("= ", at); eq != std::string::npos) b.engine = std::atof(line.c_str() + eq + 2);
  return b;
}

}  // namespace

int RunBench(const std::string& ergon, bool night) {
  namespace fs = std::filesystem;
  struct Case {
    const char* name;
    std::vector<std::string> args;
    double target;  // the most the process may be busy, as a share of the wall
    int candidates;
  };
  // `night`: a night's worth of dally_parity, for the archive's bytes per
  // candidate and the run's peak memory (about 25 minutes on 2 cores).
  const std::vector<Case> cases =
      night ? std::vector<Case>{{"dally_parity, 1,000 candidates",
                                 {"run", "--task", "dally_parity", "--agent", "offline", "--max-candidates", "1000",
                                  "--seed", "11"},
                                 0.20, 1000}}
            : std::vector<Case>{
                  {"dally_parity, 30 candidates",
                   {"run", "--task", "dally_parity", "--agent", "offline", "--max-candidates", "30", "--seed", "11"},
                   0.20, 30},
                  {"sparse_parity, 6 candidates",
                   {"run", "--task", "sparse_parity", "--agent", "offline", "--max-candidates", "6"}, 0.02, 6},
              };
  fmt::print("run: `ergon run` from a fresh process and folder; its own CPU (children excluded) read from /proc\n");
  int rc = 0;
  for (const auto& c : cases) {
    const fs::path dir = fs::temp_directory_path() / fmt::format("ergon-bench-run-{}", getpid());
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::vector<std::string> args = {ergon};
    args.insert(args.end(), c.args.begin(), c.args.end());
    args.insert(args.end(), {"--db", (dir / "ergon.db").string()});
    const Busy b = Measure(args, dir.string());
    const double share = b.wall > 0 ? b.own / b.wall : 1;
    const double engine = b.engine / 100;
    fmt::print("  {:<28} wall {:6.1f} s  engine work {:5.1f}% of the wall (target < {:.0f}%: {}); ergon's own CPU "
               "{:6.1f} s = {:5.1f}% (the scorer's included); processes it waited for {:5.1f} s{}\n",
               c.name, b.wall, 100 * engine, 100 * c.target, engine >= 0 && engine < c.target ? "met" : "NOT met",
               b.own, 100 * share, b.waited,
               b.status == 0 ? "" : fmt::format("  (exit {}: see {})", b.status, (dir / "run.err").string()));
    // What the night leaves: the archive's bytes (with its WAL) per
    // candidate, and the run's peak memory (targets: 100 KB a dally_parity
    // candidate; memory that does not grow with the run).
    std::uintmax_t bytes = 0;
    for (const char* ext : {"", "-wal"}) {
      std::error_code ec;
      const auto n = fs::file_size(dir / (std::string("ergon.db") + ext), ec);
      if (!ec) bytes += n;
    }
    const double per_candidate_kb = static_cast<double>(bytes) / 1e3 / c.candidates;
    fmt::print("  {:<28} archive {:.1f} MB = {:.1f} KB a candidate{}; peak memory (VmHWM) {:.0f} MB\n", "",
               static_cast<double>(bytes) / 1e6, per_candidate_kb,
               night ? (per_candidate_kb <= 100 ? " (target <= 100 KB: met)" : " (target <= 100 KB: NOT met)") : "",
               static_cast<double>(b.peak_rss_kb) / 1e3);
    // Memory that does not grow with the run: the peak reached by a tenth,
    // a quarter and half of the wall, against the whole run's.
    fmt::print("  {:<28} peak memory by 10% of the wall {:.0f} MB, 25% {:.0f} MB, 50% {:.0f} MB, 100% {:.0f} MB\n", "",
               PeakBy(b, 0.10), PeakBy(b, 0.25), PeakBy(b, 0.50), PeakBy(b, 1.0));
    if (b.status != 0) rc = 1;
    else fs::remove_all(dir);
  }
  return rc;
}
