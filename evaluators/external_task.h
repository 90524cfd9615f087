// An external task: a folder with task.json, a baseline and a trusted harness
// in any language (evaluators/README.md has the contract). For each instance:
//   prepare... SEED VISIBLE HIDDEN   (trusted, cwd the task folder)
//   the candidate, sandboxed and metered, in a copy of VISIBLE
//   score... WORKDIR HIDDEN          (trusted, cwd the task folder) -> JSON
// The candidate never sees HIDDEN, the seeds or the task folder.
#pragma once

#include <memory>

#include "evaluators/task.h"

namespace ergon::evaluators {

std::unique_ptr<Task> MakeExternalTask(const TaskSpec& spec);

}  // namespace ergon::evaluators
