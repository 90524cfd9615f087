// Tasks' own deterministic transformations, used by the offline agent.
#pragma once

#include <optional>
#include <string>

#include "engine/agents/agent.h"
#include "sandbox/sandbox.h"

namespace ergon::engine {

// dally_parity: run the generator (sandboxed), optimise its IR's layout
// (evaluators/dally/optimize.h), and emit a generator that prints the result.
// Empty for tasks without one. `sandbox` (outliving the Transform) is reused
// for every call.
Transform TransformFor(const std::string& task, const sandbox::Sandbox* sandbox);

// The generator a transformed candidate came from (kept inside it), if any.
std::optional<std::string> OriginOf(const std::string& source);

}  // namespace ergon::engine
