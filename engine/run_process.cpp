#include "engine/run_process.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/core.h>

namespace ergon::engine {
namespace {

std::string HostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return "unknown";
  return host;
}

// Field 22 of /proc/PID/stat (starttime); empty when the process is gone.
// The command name (field 2) is in parentheses and may hold spaces.
std::string StartTicks(long pid) {
  std::ifstream f(fmt::format("/proc/{}/stat", pid));
  std::string stat;
  if (!std::getline(f, stat)) return "";
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    // A zombie (killed, not yet reaped by a parent that never waits) has
    // ended: its row in /proc outlives it.
    if (i == 3 && (field == "Z" || field == "X")) return "";
    if (i == 22) return field;
  }
  return "";
}

struct Process {
  std::string host;
  long pid = 0;
  std::string start;
};

bool Parse(const std::string& text, Process& p) {
  std::istringstream in(text);
  return static_cast<bool>(in >> p.host >> p.pid >> p.start) && p.pid > 0;
}

}  // namespace

std::string ThisProcess() {
  const long pid = static_cast<long>(::getpid());
  return fmt::format("{} {} {}", HostName(), pid, StartTicks(pid));
}

ProcessState StateOf(const std::string& process) {
  Process p;
  if (!Parse(process, p) || p.host != HostName()) return ProcessState::kUnknown;
  return StartTicks(p.pid) == p.start ? ProcessState::kAlive : ProcessState::kGone;
}

std::string DescribeProcess(const std::string& process) {
  Process p;
  if (!Parse(process, p)) return "an unknown process";
  return fmt::format("pid {} on {}", p.pid, p.host);
}

std::string LostReason(const archive::Run& run) {
  if (run.status != archive::RunStatus::kRunning || StateOf(run.process) != ProcessState::kGone) return "";
  return fmt::format("its process ({}) ended without closing the run: killed or crashed", DescribeProcess(run.process));
}

archive::Result<int> CloseLostRuns(archive::Archive& archive) {
  auto runs = archive.Runs();
  if (!runs) return tl::unexpected(runs.error());
  int closed = 0;
  for (const auto& r : *runs) {
    const std::string why = LostReason(r);
    if (why.empty()) continue;
    if (auto ok = archive.MarkRunLost(r.id, why); !ok) return tl::unexpected(ok.error());
    ++closed;
  }
  return closed;
}

}  // namespace ergon::engine
