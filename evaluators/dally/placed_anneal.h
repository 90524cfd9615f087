// Annealing over a program as written: addresses, order and copies change
// together, and each move is priced exactly by what it changes.
//
// reschedule.h prices a state by laying out all of it again (0.6 s on the
// 16x16 matmul record), so it cannot work on large programs. Here a state
// is the IR itself, every value at an address, and a move is checked and
// priced by scanning only the ops it touches:
//  - relocate: one value moves to another address that is free over its
//    whole life (delta: its reads times the change of read cost);
//  - swap: two values whose lives overlap trade addresses, each fitting in
//    the gap the other leaves (delta: each one's reads times the change);
//  - reorder: one op moves a few places, kept after the writes of what it
//    reads and before the reads of what it writes, and never across a use
//    of its own address (free: the cost is unchanged, but lives change
//    length, so later relocations find room);
//  - add a copy: a value read at a dear address is copied, just before one
//    of its reads, to a cheaper free address that serves that read and
//    some after it (delta: one more read of the dear address, then the
//    served reads at the cheaper one);
//  - drop a copy: its readers read the source again, where the source
//    still holds the value (the reverse delta).
// Every move keeps the function exactly: values are neither recomputed nor
// reassociated, only moved. The search keeps the cheapest program seen;
// callers check it with the board's checker, as any optimisation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "evaluators/dally/ir.h"

namespace ergon::evaluators::dally {

struct PlacedAnnealOptions {
  std::uint64_t moves = 200000;  // moves tried (a 16x16 matmul move takes a few microseconds)
  std::uint64_t seed = 1;        // the same seed, the same result
  bool fixed_inputs = false;     // the board fixes where inputs live
  std::size_t reorder_span = 32;  // an op moves at most this many places
  // Temperatures in cost units, first and last (geometric). From a record a
  // low start keeps the walk near it.
  double temp_first = 1.0, temp_last = 0.05;
  bool keep_last = false;  // also hand back the final state, whatever its cost
};

struct PlacedAnnealStats {
  std::uint64_t cost_before = 0, cost_after = 0;  // cost_after: of the best state
  std::uint64_t cost_last = 0;                    // of the final state
  std::uint64_t moves = 0, legal = 0, accepted = 0, improved = 0;
  std::uint64_t relocations = 0, swaps = 0, reorders = 0, copies_added = 0, copies_dropped = 0;  // accepted, by kind
  double seconds = 0;
  std::string last;  // keep_last: the final state's IR text
};

// The IR text of the cheapest state found, or nullopt when none was cheaper
// than `program` (or the program has an address above 2^31).
std::optional<std::string> AnnealPlaced(const IrProgram& program, const PlacedAnnealOptions& options,
                                        PlacedAnnealStats* stats = nullptr);

}  // namespace ergon::evaluators::dally
