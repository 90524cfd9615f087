// Rescheduling and copies, for small programs: a search over the program's
// instruction order and its copies, each state priced by the flow layout
// (layout_flow.h) of its lifetimes.
//
// The program is read as SSA (each op defines a fresh value), so that:
//  - an op may move anywhere after the ops that define its sources and
//    before the ops that read its value (dependency-safe by construction);
//  - a copy may be eliminated: its readers read its source instead (the
//    source is alive from before the copy to after its last reader);
//  - a copy may be inserted: a value read several times gets a fresh copy
//    just before one of its reads, and that read and the later ones take
//    the copy (a hot value can then sit at a cheap address for a while);
//  - sums may be regrouped: x = (a + b) + c becomes x = (a + c) + b when
//    the inner sum has no other reader (addition is associative over the
//    integers and mod 256 alike).
// Every move keeps the function exactly. Simulated annealing picks moves;
// the best state seen is returned as IR text (laid out by OptimizeIr), and
// only if it is cheaper than the input. Callers verify with the board's
// checker or suite as for any optimisation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "evaluators/dally/ir.h"
#include "evaluators/dally/optimize.h"

namespace ergon::evaluators::dally {

struct RescheduleOptions {
  std::uint64_t moves = 20000;  // annealing steps (each prices one layout)
  std::uint64_t seed = 1;       // the same seed, the same result
  bool fixed_inputs = false;    // the board fixes where inputs live
  // Programs with more ops than this are left alone (a price is a flow
  // layout: about 0.1 ms at 100 ops, 0.6 s at 10,000).
  std::size_t max_ops = 1500;
  // Annealing temperatures in cost units, first and last (geometric).
  double temp_first = 2.0, temp_last = 0.05;
  // Also hand back the search's final state, whatever its cost (a search
  // that keeps a population explores from it; the optimiser never does).
  bool keep_last = false;
};

struct RescheduleStats {
  std::uint64_t cost_before = 0, cost_after = 0;
  std::uint64_t price_first = 0, price_best = 0;  // the search's own prices (flow layout alone)
  std::uint64_t moves = 0, accepted = 0, improved = 0;
  std::size_t copies_before = 0, copies_after = 0;
  double seconds = 0;
  std::string last;  // keep_last: the final state's IR text, laid out (empty when no move was accepted)
};

// The IR text of a cheaper equivalent program, or nullopt when the search
// found nothing cheaper than `program` (or it is too large).
std::optional<std::string> Reschedule(const IrProgram& program, const RescheduleOptions& options,
                                      RescheduleStats* stats = nullptr);

}  // namespace ergon::evaluators::dally
