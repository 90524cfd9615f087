// Runs a program to its end (no shell): the one process spawner. Slurm's
// commands (sbatch, squeue, scancel), a study's runs, and the benches use it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ergon::base {

struct ProcessOptions {
  double timeout_s = 0;  // with capture: then the program is killed; 0: no limit
  // Its environment, "NAME=VALUE" each; nullopt: this process's.
  std::optional<std::vector<std::string>> env;
  // Collect its stdout (and stderr, if merge_stderr; else stderr goes to
  // /dev/null); stdin is /dev/null. False: it shares this process's stdio.
  bool capture = true;
  bool merge_stderr = true;
  // Ctrl-C and SIGTERM reach the child (same process group), which stops
  // cleanly; this process ignores them while it waits, so that it outlives
  // the child and sees how it ended.
  bool outlive_interrupts = false;
};

struct ProcessResult {
  bool started = false;
  bool exited = false;   // false: killed by a signal (or by the timeout)
  int status = -1;       // exit status when exited
  int signal = 0;        // the signal that ended it, when not exited
  bool timed_out = false;
  std::string output;    // what it printed (capture), at most 1 MB
  std::string error;     // why it did not start
  // The shell's convention: the exit status, or 128 + the signal; -1 when
  // it did not start.
  int Code() const { return !started ? -1 : exited ? status : 128 + signal; }
};

// argv[0] is looked up on PATH when it has no slash.
ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

}  // namespace ergon::base
