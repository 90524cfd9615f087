#include <csignal>
#include <cstring>

#include <fmt/core.h>

#include "sandbox/sandbox.h"

namespace ergon::sandbox {
namespace {

std::string FirstLine(const std::string& s) {
  auto end = s.find('\n');
  std::string line = s.substr(0, end == std::string::npos ? s.size() : end);
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  return line;
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

}  // namespace

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kOk: return "ok";
    case Outcome::kExitCode: return "exit_code";
    case Outcome::kSignal: return "signal";
    case Outcome::kTimeout: return "timeout";
    case Outcome::kCpuLimit: return "cpu_limit";
    case Outcome::kMemoryLimit: return "memory_limit";
    case Outcome::kOutputLimit: return "output_limit";
    case Outcome::kSetupFailed: return "setup_failed";
    case Outcome::kCancelled: return "cancelled";
  }
  return "unknown";
}

std::string RunResult::Describe() const {
  std::string what;
  switch (outcome) {
    case Outcome::kOk: what = "ok"; break;
    case Outcome::kExitCode: what = fmt::format("exit code {}", exit_code); break;
    case Outcome::kSignal: what = fmt::format("killed by signal {} ({})", signal, SignalName(signal)); break;
    case Outcome::kTimeout: what = fmt::format("timeout after {:.1f} s (wall limit {:.1f} s)", wall_s, wall_limit_s); break;
    case Outcome::kCpuLimit: what = fmt::format("CPU limit: {:.1f} s used (limit {:.1f} s)", user_s + sys_s, cpu_limit_s); break;
    case Outcome::kMemoryLimit: what = "memory limit: an allocation failed (RLIMIT_AS)"; break;
    case Outcome::kOutputLimit:
      what = stdout_truncated ? "output limit: stdout exceeded its cap" : "output limit: a file exceeded the file-size limit";
      break;
    case Outcome::kSetupFailed: what = "sandbox setup failed"; break;
    case Outcome::kCancelled: what = fmt::format("cut off after {:.1f} s (the run was stopped)", wall_s); break;
  }
  std::string detail;
  if (outcome != Outcome::kOk && !stderr_text.empty()) detail = fmt::format(": {}", FirstLine(stderr_text));
  return fmt::format("{}{} [wall {:.2f} s, cpu {:.2f}+{:.2f} s, max rss {} KiB]", what, detail, wall_s,
                     user_s, sys_s, max_rss_kb);
}

}  // namespace ergon::sandbox
