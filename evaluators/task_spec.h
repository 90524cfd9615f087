// TaskSpec: everything task.json says, read and checked in one place.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace ergon::evaluators {

struct TaskSpec {
  std::string name;         // the folder's name
  std::string dir;          // absolute folder path
  std::string file;         // dir/task.json
  std::string summary;      // one line for `ergon tasks`
  std::string description;  // shown to agents
  std::string language;     // cpp | cuda | ir-generator | ir (the candidate is a Dally IR program)
  std::string baseline;     // file in dir
  // Objectives: gate.metric >= gate.min, then minimise `minimise`.
  std::string gate_metric;
  double gate_min = 0;
  std::vector<double> bands;          // optional gate levels for summaries
  std::string minimise;
  std::vector<std::string> record;    // further metrics kept as objectives
  std::vector<std::string> metrics;   // every metric the task reports
  std::string meter;                  // default meter
  std::vector<std::string> meters;    // meters it accepts
  int instances = 3;
  double timeout_s = 120;             // per instance
  bool whole_file = false;            // agents may rewrite the whole file
  std::map<std::string, double> params;
  // External tasks: the trusted harness (argv, run in dir). Empty = built-in.
  std::vector<std::string> prepare, score;
  double harness_timeout_s = 60;      // per harness step (prepare or score)
  // Dally tasks ("dally": {...}): the board an IR candidate is checked
  // against (dally/board.h: matmul4x4, symmetry6, ...) and the folder of
  // the MASK32 suites a generator is scored on (absolute; default dir/suites).
  std::string dally_board, dally_suites;

  bool external() const { return !score.empty(); }
  // The candidate is compiled and run (a learner), not read as a program.
  bool learner() const { return language == "cpp" || language == "cuda"; }
  // Higher is better for the gate metric; lower for everything else.
  bool HigherIsBetter(const std::string& metric) const { return metric == gate_metric; }
  // The language a candidate is compiled as: the spec's, or cuda for a
  // learner that holds CUDA kernels (a .cu variant of a C++ task).
  std::string LanguageOf(const std::string& source) const {
    return language == "cpp" && source.find("__global__") != std::string::npos ? "cuda" : language;
  }
};

// Reads DIR/task.json. Every field used is checked; an error names the file
// and the field ("…/task.json: field \"objectives.gate.min\": expected a number").
tl::expected<TaskSpec, std::string> ReadTaskSpec(const std::string& dir);

// A metric name: letters, digits, '_' and '.', at most 64 characters.
bool IsMetricName(const std::string& name);

// The meters a candidate can run under, for tasks that run learners.
inline const std::vector<std::string>& LearnerMeters() {
  static const std::vector<std::string> m = {"cachemodel", "nvml", "wall"};
  return m;
}

}  // namespace ergon::evaluators
