// The symmetry boards on the Dally model (rules: tests/data/dally/symmetry/
// SOURCE.md): say whether an n-bit pattern is a palindrome. Instruction set
// v3 with 8-bit values; the inputs are fixed at addresses 1..n (bit i of the
// pattern at address i + 1), so the first line must be exactly 1,2,...,n;
// one output, which must be 1 for a palindrome and 0 otherwise on every one
// of the 2^n patterns. The score is the static read cost.
#pragma once

#include <cstdint>

#include <tl/expected.hpp>

#include "evaluators/dally/ir.h"

namespace ergon::evaluators::dally {

struct SymmetryScore {
  std::uint64_t cost = 0;
  std::size_t lines = 0;
  std::size_t patterns = 0;  // all 2^n, each right
};

// Is bit pattern `x` (bit i = input i) of n bits a palindrome?
bool IsPalindrome(std::uint32_t x, int n);

// The score of a correct program (2 <= n <= 16), or the first fault with its
// line: inputs other than 1..n, not exactly one output, a zero divisor, or
// the first pattern it gets wrong ("pattern 100001 (input 1 first): output
// 0, a palindrome needs 1").
tl::expected<SymmetryScore, IrError> CheckSymmetry(const IrProgram& program, int n);

}  // namespace ergon::evaluators::dally
