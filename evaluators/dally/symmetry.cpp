#include "evaluators/dally/symmetry.h"

#include <fmt/core.h>

#include "evaluators/dally/isa.h"

namespace ergon::evaluators::dally {

bool IsPalindrome(std::uint32_t x, int n) {
  for (int i = 0, j = n - 1; i < j; ++i, --j)
    if (((x >> i) & 1u) != ((x >> j) & 1u)) return false;
  return true;
}

tl::expected<SymmetryScore, IrError> CheckSymmetry(const IrProgram& prog, int n) {
  auto fail = [](IrError::Kind kind, int line, std::string msg) {
    return tl::unexpected(IrError{kind, line, std::move(msg)});
  };
  if (n < 2 || n > 16) return fail(IrError::Kind::kArity, 0, fmt::format("symmetry needs 2 to 16 bits, not {}", n));
  if (auto ok = CheckInstructionSet(prog, InstructionSet::kV3); !ok) return tl::unexpected(ok.error());
  bool fixed = prog.input_addrs.size() == static_cast<std::size_t>(n);
  for (std::size_t i = 0; fixed && i < prog.input_addrs.size(); ++i) fixed = prog.input_addrs[i] == i + 1;
  if (!fixed)
    return fail(IrError::Kind::kArity, 1,
                fmt::format("symmetry {} places its inputs at 1..{}: the first line must be 1,2,...,{}", n, n, n));
  const int last = static_cast<int>(prog.lines);
  if (prog.output_slots.size() != 1)
    return fail(IrError::Kind::kArity, last,
                fmt::format("IR produces {} outputs; symmetry needs 1", prog.output_slots.size()));
  const std::size_t patterns = std::size_t{1} << n;
  std::vector<std::int8_t> inputs(patterns * static_cast<std::size_t>(n));
  for (std::size_t x = 0; x < patterns; ++x)
    for (int i = 0; i < n; ++i) inputs[x * static_cast<std::size_t>(n) + static_cast<std::size_t>(i)] = (x >> i) & 1u;
  auto out = SimulateBatch(prog, inputs, patterns);
  if (!out) return tl::unexpected(out.error());
  for (std::size_t x = 0; x < patterns; ++x) {
    const int want = IsPalindrome(static_cast<std::uint32_t>(x), n) ? 1 : 0;
    if ((*out)[x] == want) continue;
    std::string bits;
    for (int i = 0; i < n; ++i) bits += ((x >> i) & 1u) ? '1' : '0';
    return fail(IrError::Kind::kCompile, last,
                fmt::format("pattern {} (input 1 first): output {}, {} needs {}", bits, (*out)[x],
                            want ? "a palindrome" : "a non-palindrome", want));
  }
  return SymmetryScore{prog.cost, prog.lines, patterns};
}

}  // namespace ergon::evaluators::dally
