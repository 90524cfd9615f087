// One step of the in-process search on a checked board (board.h): the
// program's order laid out by the flow method (optimize.h); for small
// programs, annealing over order and copies priced by that layout
// (reschedule.h); and for programs of any size, annealing over the program
// as written (placed_anneal.h) from the cheaper of the input and its flow
// layout. The cheapest result, checked by the board's checker. A step never returns a program that costs
// as much as its input or more, unless asked to step sideways: then, when
// nothing cheaper is found, it returns where the annealing ended (another
// correct program, perhaps dearer) for a population to explore from.
// Finding nothing is an error that says what was tried.
#pragma once

#include <cstdint>
#include <string>

#include <tl/expected.hpp>

#include "evaluators/dally/board.h"
#include "evaluators/dally/ir.h"

namespace ergon::evaluators::dally {

struct BoardStepOptions {
  std::uint64_t moves = 5000;  // reschedule.h: annealing states priced (0: none)
  // placed_anneal.h: moves tried (0: none); about 5 us each on the 16x16
  // matmul record, 0.2 us on 4x4.
  std::uint64_t placed_moves = 200000;
  std::uint64_t seed = 1;      // the same seed, the same step
  bool sideways = false;       // nothing cheaper: return the annealing's last state
  // Annealing temperatures in cost units, first and last. From a record a
  // low start keeps the walk near it (from 667 at 2.0 it ends near 700).
  double temp_first = 0.5, temp_last = 0.02;
};

struct BoardStep {
  std::string text;  // the cheaper program, checked
  std::uint64_t cost_before = 0, cost_after = 0;
  std::uint64_t lower_bound = 0;  // no layout of the result's order costs less (0: not computed)
  std::uint64_t moves = 0;        // annealing states priced (reschedule.h)
  std::uint64_t placed_moves = 0; // moves tried on the program as written (placed_anneal.h)
  bool rescheduled = false;       // the order or the copies changed, not only the addresses
  bool sideways = false;          // not cheaper: the annealing's last state (options.sideways)
  double seconds = 0;
};

tl::expected<BoardStep, std::string> ImproveBoardProgram(const Board& board, const IrProgram& program,
                                                         const BoardStepOptions& options);

}  // namespace ergon::evaluators::dally
