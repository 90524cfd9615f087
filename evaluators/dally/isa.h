// Instruction-set versions of the Dally boards. Each board fixes the ops a
// program may use: matmul is scored on v0 (add, sub, mul, copy: exact over
// the integers), sparse parity and symmetry on v3 (every op, 8-bit wrap).
// The parser reads every op; a board checks its set after compiling.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "evaluators/dally/ir.h"

namespace ergon::evaluators::dally {

enum class InstructionSet : std::uint8_t { kV0, kV3 };

// "v0" | "v3"; nullopt for anything else.
std::optional<InstructionSet> ParseInstructionSet(std::string_view name);
std::string_view InstructionSetName(InstructionSet set);

// "add, sub, mul, copy" (for messages).
std::string InstructionSetOps(InstructionSet set);

bool Allows(InstructionSet set, OpCode code);

// OK, or a compile error naming the first instruction whose op is outside
// the set and its line: "line 7: op 'set' is not in instruction set v0
// (add, sub, mul, copy)".
tl::expected<void, IrError> CheckInstructionSet(const IrProgram& program, InstructionSet set);

}  // namespace ergon::evaluators::dally
