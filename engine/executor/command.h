// Runs a program (no shell) and collects what it prints: sbatch, squeue and
// scancel for the Slurm executor.
#pragma once

#include <string>
#include <vector>

namespace ergon::engine {

struct CommandResult {
  int status = -1;     // exit code; -1 when it could not start or was killed
  std::string output;  // stdout and stderr together
  bool timed_out = false;
};

// argv[0] is looked up on PATH. After timeout_s the program is killed. It
// gets a minimal environment (PATH, HOME, USER, LANG and the like, and
// Slurm's own variables): never an API key, which sbatch would store with
// the job.
CommandResult RunCommand(const std::vector<std::string>& argv, double timeout_s);

}  // namespace ergon::engine
