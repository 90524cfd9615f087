// The Sutro group's "simplified Dally model" IR (v3 ISA, signed 8-bit wrap):
// parsing, static cost and simulation, exactly as ../conformance SPEC.md
// describes (a copy of its rules is in evaluators/dally_parity/README.md).
//
// A program is compiled once into a compact op array over densely renumbered
// slots; simulation then runs many instances at once, one int8 lane per
// instance, so the inner loops vectorise.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace ergon::evaluators::dally {

enum class OpCode : std::uint8_t { kSet, kCopy, kNot, kAbs, kAdd, kSub, kMul, kDiv, kAnd, kOr, kXor, kCmp, kSelect };
enum class Pred : std::uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

struct Op {
  OpCode code;
  Pred pred;       // cmp only
  std::int16_t imm;  // set only, already wrapped to [-128, 127]
  std::uint32_t dst, a, b, c;  // slots
};

struct IrProgram {
  std::vector<std::uint32_t> input_slots;   // slot of the i-th input
  std::vector<std::uint64_t> input_addrs;   // address of the i-th input, as the first line lists it
  std::vector<std::uint32_t> output_slots;  // slot of the i-th output
  std::vector<Op> ops;
  std::uint32_t num_slots = 0;
  std::vector<std::uint64_t> slot_addrs;    // the address each slot stands for
  std::uint64_t cost = 0;   // static: sum of ceil(sqrt(addr)) over reads
  std::size_t lines = 0;    // non-blank lines, input and output included
};

struct IrError {
  enum class Kind { kCompile, kRuntimeDivByZero, kArity };
  Kind kind = Kind::kCompile;
  int line = 0;           // 1-based line after the ';' split; 0 if none
  std::string message;    // the upstream wording, e.g. "output addr 3 never written"
  std::string Describe() const;  // "line 12: malformed instruction ..."
};

constexpr std::size_t kSmallMediumLineCap = 100000;
constexpr std::size_t kMask32LineCap = 2000000;

// How many operands an op reads: Op::a, then b, then c (set 0; copy, not,
// abs 1; select 3; the rest 2, the short form's destination included).
inline int ReadCount(OpCode code) {
  switch (code) {
    case OpCode::kSet: return 0;
    case OpCode::kCopy: case OpCode::kNot: case OpCode::kAbs: return 1;
    case OpCode::kSelect: return 3;
    default: return 2;
  }
}

// The k-th operand an op reads (k < ReadCount): Op::a, b, then c.
inline std::uint32_t Source(const Op& op, int k) { return k == 0 ? op.a : k == 1 ? op.b : op.c; }
inline std::uint32_t& Source(Op& op, int k) { return k == 0 ? op.a : k == 1 ? op.b : op.c; }

// The op's name in the IR text ("add", "select").
std::string_view OpName(OpCode code);

// The line an instruction came from, counted as IrError counts lines (the
// non-blank lines after the ';' split): op i is line i + 2.
inline int OpLine(std::size_t op_index) { return static_cast<int>(op_index) + 2; }

// 1234567 -> "1,234,567" (upstream's messages and ergon's reports).
std::string WithCommas(std::uint64_t n);

// ceil(sqrt(addr)) computed exactly as isqrt(addr - 1) + 1.
std::uint64_t ReadCost(std::uint64_t addr);

// Where a program's static cost goes, for a model to see (CompileIr fills
// it when asked): by operation, by address band, and the hottest addresses.
struct IrCostProfile {
  std::uint64_t by_op[13] = {};  // indexed by OpCode
  std::uint64_t outputs = 0;     // the output line's reads
  // Reads per address; addresses above kDense are counted in `sparse`.
  static constexpr std::uint64_t kDense = 1u << 22;
  std::vector<std::uint32_t> reads;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> sparse;  // (address, reads), unsorted, may repeat
  void Read(std::uint64_t addr) {
    if (addr < kDense) {
      if (addr >= reads.size()) reads.resize(std::max<std::size_t>(addr + 1, reads.size() * 2));
      ++reads[addr];
    } else {
      sparse.emplace_back(addr, 1);
    }
  }
  // {"total", "by_op": {name: cost}, "outputs", "bands": [{"from", "to",
  // "reads", "cost"}], "hottest": [{"address", "reads", "cost"}]}: bands
  // are powers of 4 (1-4, 5-16, 17-64, ...), the `top` hottest by cost.
  std::string Json(std::size_t top) const;
};

tl::expected<IrProgram, IrError> CompileIr(std::string_view text, std::size_t line_cap,
                                           IrCostProfile* profile = nullptr);

// Exact reference semantics for one instance with arbitrary integer inputs
// (inputs are placed unwrapped, as upstream does).
tl::expected<std::vector<std::int64_t>, IrError> SimulateOne(const IrProgram& p,
                                                              const std::vector<std::int64_t>& inputs);

// Many instances at once. inputs[i * num_inputs + j] is input j of instance
// i and must fit int8 (the benchmarks use 0/1). Outputs likewise, row-major.
// A zero divisor in any instance fails the whole batch, as upstream.
tl::expected<std::vector<std::int8_t>, IrError> SimulateBatch(const IrProgram& p,
                                                               const std::vector<std::int8_t>& inputs,
                                                               std::size_t instances);

}  // namespace ergon::evaluators::dally
