#include "evaluators/dally/isa.h"

#include <fmt/core.h>

namespace ergon::evaluators::dally {

std::optional<InstructionSet> ParseInstructionSet(std::string_view name) {
  if (name == "v0") return InstructionSet::kV0;
  if (name == "v3") return InstructionSet::kV3;
  return std::nullopt;
}

std::string_view InstructionSetName(InstructionSet set) { return set == InstructionSet::kV0 ? "v0" : "v3"; }

bool Allows(InstructionSet set, OpCode code) {
  if (set == InstructionSet::kV3) return true;
  return code == OpCode::kAdd || code == OpCode::kSub || code == OpCode::kMul || code == OpCode::kCopy;
}

std::string InstructionSetOps(InstructionSet set) {
  std::string out;
  for (int c = 0; c <= static_cast<int>(OpCode::kSelect); ++c) {
    const auto code = static_cast<OpCode>(c);
    if (!Allows(set, code)) continue;
    if (!out.empty()) out += ", ";
    out += OpName(code);
  }
  return out;
}

tl::expected<void, IrError> CheckInstructionSet(const IrProgram& p, InstructionSet set) {
  for (std::size_t i = 0; i < p.ops.size(); ++i)
    if (!Allows(set, p.ops[i].code))
      return tl::unexpected(IrError{IrError::Kind::kCompile, OpLine(i),
                                    fmt::format("op '{}' is not in instruction set {} ({})", OpName(p.ops[i].code),
                                                InstructionSetName(set), InstructionSetOps(set))});
  return {};
}

}  // namespace ergon::evaluators::dally
