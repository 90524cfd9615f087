// An IR optimiser that keeps a program's function exactly and lowers its
// static cost (SPEC.md §4: reading address a costs ceil(sqrt(a))).
//
//  0. Rematerialisation (tried as an alternative trace): `set` is free, so a
//     constant is set again right before each instruction that reads it,
//     and the long-lived original dies.
//  1. Dead code: an op whose value is never read (nor output) goes, and so,
//     transitively, does the work only it needed.
//  2. Slot reuse by liveness: values get addresses in program order, each the
//     lowest address free at its definition (a value dying at an op hands its
//     address to that op's result: reads happen before the write).
//  3. Layouts, the cheapest kept: linear scan, placements by read density,
//     and the tier-by-tier min-cost flow (layout_flow.h), each then renamed
//     so the most-read addresses come first (the rearrangement-inequality
//     optimum for the fixed access trace) unless the inputs are fixed.
#pragma once

#include <cstdint>
#include <string>

#include <tl/expected.hpp>

#include "evaluators/dally/ir.h"

namespace ergon::evaluators::dally {

struct OptimizeOptions {
  // The board fixes where inputs live (symmetry: addresses 1..n): layouts
  // keep each input at its address.
  bool fixed_inputs = false;
  // Programs of more ops than this skip the flow layout and the lower bound
  // (a few seconds at 60,000 ops; a generator's raw MASK32 output has
  // hundreds of thousands). 0: never.
  std::size_t flow_max_ops = 100000;
};

struct OptimizeStats {
  std::uint64_t cost_before = 0, cost_after = 0;
  // No layout of the result's instruction order costs less than this
  // (LayoutLowerBound); 0 when not computed (past flow_max_ops).
  std::uint64_t lower_bound = 0;
  std::size_t lines_before = 0, lines_after = 0;
  std::size_t dead_ops = 0;
  std::uint64_t max_address = 0;
};

// Rewrites `program` and returns the IR text of the result.
std::string OptimizeIr(const IrProgram& program, OptimizeStats* stats = nullptr, const OptimizeOptions& options = {});

// IR text of a compiled program with the given address for each slot
// (addresses[slot]); used by the optimiser and its tests.
std::string EmitIr(const IrProgram& program, const std::vector<std::uint64_t>& addresses);

}  // namespace ergon::evaluators::dally
