// Evaluating one candidate on a task, for `ergon eval`, `ergon replay` and
// (later) the search loop: one entry point over the task harnesses.
#pragma once

#include <cstddef>
#include <string>

#include "engine/record.h"
#include "sandbox/sandbox.h"

namespace ergon::engine {

struct EvalRequest {
  std::string task;          // dally_parity | sparse_parity
  std::string source;
  bool cuda = false;         // a .cu learner
  std::string meter;         // empty = the task's default
  std::string suite = "dev";
  std::size_t instances = 0; // 0 = the task's default
  double timeout_s = 120;
  std::string home;          // ergon's data folder
  // A sandbox to reuse (a search makes one for the whole run); null: make
  // one for this call.
  const sandbox::Sandbox* sandbox = nullptr;
};

struct EvalOutcome {
  bool ran = false;          // the candidate ran (whatever its score)
  bool usage_error = false;  // bad meter / suite for this task (exit 2)
  std::string error;         // when it did not run: what failed
  std::string stage;
  std::string text;          // one or two lines for humans
  std::string json;          // `--json` object
  std::string feedback;      // capped diagnostics / stderr
  Scored scored;             // for the archive
};

EvalOutcome Evaluate(const EvalRequest& request);

}  // namespace ergon::engine
