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

namespace ergon::engine {

struct StudyOptions {
  std::string task;
  std::string name = "study";
  std::string db = "ergon.db";
  std::vector<std::string> arms = {"evolve", "independent"};  // strategies (engine/strategy.h)
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
