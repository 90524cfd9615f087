// The harnesses compiled into ergon, chosen for a task folder. Each lives in
// its task's folder (evaluators/<task>/harness/); this file only picks one.
#include "evaluators/builtin_tasks.h"

#include "evaluators/char_lm/harness/task.h"
#include "evaluators/dally_boards/harness/task.h"
#include "evaluators/dally_parity/harness/task.h"
#include "evaluators/fashion_mnist/harness/task.h"
#include "evaluators/sparse_parity/harness/task.h"

namespace ergon::evaluators {

std::unique_ptr<Task> MakeBuiltinTask(const TaskSpec& spec) {
  // Dally tasks by what their candidate is: an IR program checked against
  // its board, or a MASK32 generator scored on its suites at its gate.
  if (spec.language == "ir") return MakeDallyBoardTask(spec);
  if (spec.language == "ir-generator") return MakeDallyParityTask(spec);
  if (spec.name == "sparse_parity") return MakeSparseParityTask(spec);
  if (spec.name == "char_lm") return MakeCharLmTask(spec);
  // Its tiers: fashion_mnist_small, fashion_mnist_medium, fashion_mnist_original.
  if (spec.name.rfind("fashion_mnist_", 0) == 0) return MakeFashionMnistTask(spec);
  return nullptr;
}

}  // namespace ergon::evaluators
