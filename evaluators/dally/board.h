// The Dally boards that are checked rather than run on a suite, by name:
// matmul<N>x<N> (matmul4x4, matmul16x16; N from 1 to 64) and symmetry<N>
// (symmetry6, symmetry8; N from 2 to 16). Each names its checker and its
// parameter, so a task folder can name a board without code of its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "evaluators/dally/ir.h"
#include "evaluators/dally/isa.h"

namespace ergon::evaluators::dally {

struct Board {
  enum class Kind : std::uint8_t { kMatmul, kSymmetry };
  Kind kind = Kind::kMatmul;
  int n = 0;

  std::string Name() const;         // "matmul16x16", "symmetry6"
  std::string Describe() const;     // "matmul 16x16 (v0, exact over the integers)"
  InstructionSet Isa() const { return kind == Kind::kMatmul ? InstructionSet::kV0 : InstructionSet::kV3; }
  bool FixedInputs() const { return kind == Kind::kSymmetry; }  // inputs at 1..n
};

// What ParseBoard reads, for messages.
constexpr const char* kBoardNames = "matmulNxN (N from 1 to 64) or symmetryN (N from 2 to 16)";

// nullopt for any other name (the sparse-parity tiers included).
std::optional<Board> ParseBoard(std::string_view name);

struct BoardScore {
  std::uint64_t cost = 0;
  std::size_t lines = 0;
  // What was checked: 2^n patterns (symmetry), or 0 for matmul (checked
  // over the integers, see matmul.h).
  std::size_t patterns = 0;
};

// The board's checker: the score of a correct program, or the first fault
// with its line.
tl::expected<BoardScore, IrError> CheckBoard(const Board& board, const IrProgram& program);

}  // namespace ergon::evaluators::dally
