// Where a run's evaluations happen: in this process's sandbox (local), or as
// jobs of a cluster scheduler (slurm). The search loop asks an Executor for
// measurements and never learns which.
//
// An evaluation has a key (run, source hash, suite): asking again for a key
// whose job is still running, or finished unrecorded, collects that job
// instead of measuring again. That is what lets `--resume` pick up the jobs a
// killed process left behind.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "evaluators/task.h"
#include "sandbox/sandbox.h"

namespace ergon::engine {

// Queued, running and finished jobs (for progress lines).
struct ExecutorCounts {
  int queued = 0, running = 0, done = 0, resubmitted = 0;
};

// An evaluation the previous process asked for and never recorded, with the
// note the engine left beside it (what it needs to record the result).
struct Unfinished {
  std::string key;
  std::string note;  // JSON text, as given to Measure
};

class Executor {
 public:
  virtual ~Executor() = default;
  // "local" or "slurm".
  virtual std::string name() const = 0;
  // Measures `request` on `task`. `note` (JSON text) is kept beside the job
  // until Recorded(key): what a later process needs to record the result.
  // Never throws. An infrastructure failure (the job, not the candidate,
  // failed, after bounded resubmission) comes back with
  // m.infrastructure_error set.
  virtual evaluators::Measurement Measure(const evaluators::Task& task, const std::string& key,
                                          const evaluators::TaskEvalRequest& request, const std::string& note) = 0;
  // The archive holds what the evaluation of `key` produced: forget it.
  virtual void Recorded(const std::string& key) = 0;
  // Evaluations of this run that a previous process started and never
  // recorded (oldest first).
  virtual std::vector<Unfinished> Orphans() = 0;
  // Whether Measure keeps its `note` (for Orphans after a restart). The
  // local executor does not, and the search then passes none: a note
  // carries the whole source and reply, megabytes for a generated program.
  virtual bool KeepsNotes() const { return true; }
  // Cuts off everything in flight (returns at once; Measure calls come back
  // with ran=false).
  virtual void Cancel() = 0;
  virtual ExecutorCounts Counts() const = 0;
};

// Evaluations in this process, in `sandbox` (which outlives the executor).
std::unique_ptr<Executor> MakeLocalExecutor(const sandbox::Sandbox* sandbox);

struct SlurmOptions {
  std::string spool;      // a folder every node sees; this run's jobs go in spool/run-N
  std::string partition;  // empty: the cluster's default
  std::string gres;       // e.g. gpu:1; empty: none (a GPU meter asks for gpu:1)
  std::string extra_args; // more sbatch arguments, split on spaces
  std::string ergon;      // the ergon binary the job runs (default: this one)
  std::string home;       // ERGON_HOME for the job
  std::vector<std::string> tasks_dirs;
  std::int64_t run_id = 0;
  int max_submissions = 3;  // per evaluation: the first, and resubmissions after infrastructure failures
  double poll_s = 0.1;        // the spool's result files, this often
  double queue_poll_s = 2.0;  // squeue (lost jobs), this often: it costs the controller
};

// Why this machine cannot submit Slurm jobs ("" when squeue answers).
std::string SlurmProblem();

// Checks that squeue answers and the spool is writable.
tl::expected<std::unique_ptr<Executor>, std::string> MakeSlurmExecutor(const SlurmOptions& options);

}  // namespace ergon::engine
