// dally_parity's own transformation for the offline agent: run the generator
// (sandboxed), lay its IR out anew (dally/optimize.h), and emit a generator
// that prints the result and carries the generator it came from.
#pragma once

#include <optional>
#include <string>

#include "evaluators/dally_parity/harness/generator.h"
#include "evaluators/task.h"

namespace ergon::evaluators {

// Null without a sandbox. `sandbox` and `memo` (may be null: what earlier runs
// of a parent printed) must outlive the transform.
SourceTransform DallyLayoutTransform(const sandbox::Sandbox* sandbox, PrintedPrograms* memo);

// The generator a transformed candidate came from (kept inside it), if any.
std::optional<std::string> DallyOriginOf(const std::string& source);

}  // namespace ergon::evaluators
