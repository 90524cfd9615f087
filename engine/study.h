// `ergon study`: several search strategies (arms) over several seeds on one
// task, into one archive, then what they found (engine/study_report.h).
//
// Each arm at each seed is one `ergon run --isolated --study NAME` child
// process, one after another, so a run sees only its own candidates and the
// baseline, and every flag of `ergon run` (agents, budgets, the Slurm
// executor) works as it does there. The archive is the study's state: run
// again, the study keeps the runs that finished, resumes those that
// stopped, and starts those still missing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace ergon::engine {

// One arm: a name, and the flags its runs get beside the study's own (a
// strategy, models, a run file: `--strategy independent`, `--model m`,
// `--config night.toml`).
struct ArmSpec {
  std::string name;
  std::vector<std::string> flags;
};

// "evolve" -> the strategy of that name; "NAME=FLAGS" -> FLAGS split at
// spaces (single or double quotes keep a value whole). An error says why
// a spec is not an arm.
tl::expected<ArmSpec, std::string> ParseArm(const std::string& spec);

struct StudyOptions {
  std::string task;
  std::string name = "study";
  std::string db = "ergon.db";
  std::vector<ArmSpec> arms;
  int seeds = 5;                                              // 1..seeds
  std::optional<double> target;
  bool json = false;
  std::vector<std::string> tasks_dirs;
  std::vector<std::string> run_args;  // for every `ergon run`
  std::string ergon;                  // the binary to run (this one)
};

// Exit 0 when every run finished and the report was printed; 1 when a run
// failed or stopped (run the study again to resume); 2 on usage errors.
int RunStudy(const StudyOptions& options);

}  // namespace ergon::engine
