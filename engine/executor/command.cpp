#include "engine/executor/command.h"

#include <algorithm>
#include <iterator>

#include "base/process.h"

extern char** environ;

namespace ergon::engine {
namespace {

// What a Slurm command may see of ergon's environment. sbatch hands its
// whole environment to the job, and slurmctld keeps it with the job in its
// state directory (and on the node): an API key in ergon's environment
// would land on disk there. So only these go: the basics a command and a
// job script need, and Slurm's own settings (SLURM_CONF, SBATCH_*, ...).
std::vector<std::string> MinimalEnvironment() {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    const std::string kv(*e);
    const std::string name = kv.substr(0, kv.find('='));
    static const char* const kBasics[] = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR"};
    bool keep = std::find(std::begin(kBasics), std::end(kBasics), name) != std::end(kBasics);
    for (const char* prefix : {"SLURM_", "SBATCH_", "SQUEUE_", "SCANCEL_", "SACCT_", "MUNGE_"})
      keep = keep || name.rfind(prefix, 0) == 0;
    if (keep) out.push_back(kv);
  }
  return out;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, double timeout_s) {
  base::ProcessOptions o;
  o.timeout_s = timeout_s;
  o.env = MinimalEnvironment();
  const base::ProcessResult p = base::RunProcess(argv, o);
  CommandResult r;
  r.timed_out = p.timed_out;
  r.status = p.exited ? p.status : -1;
  r.output = p.started ? p.output : p.error;
  return r;
}

}  // namespace ergon::engine
