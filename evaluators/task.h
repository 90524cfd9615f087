// A task: what a candidate must do, how it is measured, and what the engine
// may do with it. The engine, the archive and the CLI know tasks only through
// this interface and their task.json (TaskSpec); no task is named outside its
// own files.
//
// Built-in tasks have a C++ harness compiled into ergon; external tasks are
// folders with a trusted harness of their own (evaluators/README.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "evaluators/task_spec.h"
#include "sandbox/sandbox.h"

namespace ergon::evaluators {

struct TaskEvalRequest {
  std::string source;
  std::string language;       // empty = the spec's; "cuda" for a .cu learner
  std::string meter;          // empty = the spec's default meter
  std::string suite = "dev";  // dev | fresh (| KEY where the task allows)
  std::size_t instances = 0;  // 0 = the spec's
  double timeout_s = 0;       // per instance; 0 = the spec's
};

// What one evaluation measured, whatever the task.
struct Measurement {
  bool ran = false;            // the candidate was measured (whatever its score)
  bool harness_error = false;  // the trusted harness failed: never the candidate's fault
  std::string stage;           // when !ran: compile | run | output | meter | harness | ...
  std::string error;           // when !ran: what failed, in words
  std::map<std::string, double> metrics;  // means over instances, named by the task and meter
  std::string components;      // JSON object: the meter's breakdown
  bool gate_passed = false;
  double fitness = -1e300;     // higher is better: minus the minimised metric
  std::vector<double> objectives;  // minimised: -gate metric, the minimised metric, recorded ones
  std::string cell;            // MAP-Elites cell
  std::string feedback;        // capped diagnostics / stderr, for agents
  std::string evaluator_version, meter, device, suite;
  std::string text;            // one or two lines for people
  std::string json;            // the `--json` object
  // Where it was measured: the host, and the scheduler's job ("slurm 123")
  // when one ran it; empty job = in this process.
  std::string node, job;
  // The infrastructure failed (a cluster job lost, cancelled, never started,
  // after bounded resubmission): says nothing about the candidate.
  bool infrastructure_error = false;
};

// A task's own transformation of a candidate (for the offline agent): the
// new source, or why not. The same source and seed, the same result; a
// deterministic transformation ignores the seed.
using SourceTransform =
    std::function<tl::expected<std::string, std::string>(const std::string& source, std::uint64_t seed)>;

class Task {
 public:
  explicit Task(TaskSpec spec) : spec_(std::move(spec)) {}
  virtual ~Task() = default;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  const TaskSpec& spec() const { return spec_; }
  // Usage errors in a request (unknown meter or suite), or "".
  virtual std::string CheckRequest(const TaskEvalRequest& request) const;
  // Measures one candidate. Never throws; failures are in the Measurement.
  virtual Measurement Evaluate(const sandbox::Sandbox& sandbox, const TaskEvalRequest& request) const = 0;
  // Changes whenever a change could move a number (stored with evaluations).
  virtual std::string Version() const = 0;
  // What an agent must know to write a candidate, for its prompt: how the
  // candidate is built and run (command, limits, the task's parameters) and
  // how `meter` prices its work, with the constants.
  virtual std::string AgentFacts(const std::string& meter) const;
  // The offline agent's transformation; null when the task has none.
  virtual SourceTransform MakeTransform(const sandbox::Sandbox* /*sandbox*/) const { return nullptr; }
  // A few words naming what the transformation does (a candidate's idea).
  virtual std::string TransformIdea() const { return "the task's transformation"; }
  // The source a transformed candidate was made from, if it carries one.
  virtual std::optional<std::string> OriginOf(const std::string& /*source*/) const { return std::nullopt; }
  // What `archive export` writes for a candidate: file name -> content.
  virtual std::map<std::string, std::string> ExportFiles(const std::string& source, const std::string& language) const;
  // What a person submits to the task's community, computed now (the task's
  // own kit: dally_parity's IR and report); empty when the task has none.
  // `about` says where the candidate came from (its intent, its lineage).
  struct SubmissionAbout {
    std::string title, method, generator_file, date;
    std::vector<std::string> lineage;
  };
  virtual bool HasSubmissionKit() const { return false; }
  virtual tl::expected<std::map<std::string, std::string>, std::string> SubmissionFiles(
      const sandbox::Sandbox& /*sandbox*/, const std::string& /*source*/, const SubmissionAbout& /*about*/) const {
    return std::map<std::string, std::string>{};
  }

 protected:
  // Fills gate, fitness, objectives and (if empty) cell from the metrics and
  // the spec; the same rule for every task.
  void Judge(Measurement& m) const;

 private:
  TaskSpec spec_;
};

// Where task folders are found: <home>/evaluators/, each folder of
// $ERGON_TASKS (colon-separated), and each --tasks DIR. A name found twice is
// taken from the first place in the order --tasks, ERGON_TASKS, home.
class TaskRegistry {
 public:
  static TaskRegistry Load(const std::string& home, const std::vector<std::string>& extra_dirs);

  // Every readable spec, sorted by name.
  const std::vector<TaskSpec>& specs() const { return specs_; }
  // Folders whose task.json is broken: "FILE: field X: what is wrong".
  const std::vector<std::string>& problems() const { return problems_; }
  const TaskSpec* Find(const std::string& name) const;
  // The task, or an error naming the known ones (or the spec's problem).
  tl::expected<std::unique_ptr<Task>, std::string> Open(const std::string& name) const;

 private:
  std::vector<TaskSpec> specs_;
  std::vector<std::string> problems_;
};

// The device an evaluation under `meter` ran on, in words.
std::string DeviceFor(const std::string& meter);

}  // namespace ergon::evaluators
