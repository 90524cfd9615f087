// Dally board tasks: the candidate is the IR program itself (language "ir"),
// checked by its board's checker (dally/board.h) and scored by its static
// read cost, in this process: data read by trusted code, no compiler, no
// sandbox run. The folder's task.json names the board ("dally": {"board":
// "matmul4x4"}); a new board of a known family is a new folder, no code.
#pragma once

#include <memory>

#include "evaluators/task.h"

namespace ergon::evaluators {

// Null unless spec.language is "ir" and spec.dally_board names a board.
std::unique_ptr<Task> MakeDallyBoardTask(const TaskSpec& spec);

}  // namespace ergon::evaluators
