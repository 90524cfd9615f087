#include "evaluators/dally/board_search.h"

#include <chrono>
#include <optional>

#include <fmt/core.h>

#include "evaluators/dally/optimize.h"
#include "evaluators/dally/placed_anneal.h"
#include "evaluators/dally/reschedule.h"

namespace ergon::evaluators::dally {

tl::expected<BoardStep, std::string> ImproveBoardProgram(const Board& board, const IrProgram& program,
                                                         const BoardStepOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  BoardStep step;
  step.cost_before = program.cost;
  OptimizeOptions layout;
  layout.fixed_inputs = board.FixedInputs();
  OptimizeStats laid;
  std::string best = OptimizeIr(program, &laid, layout);
  std::uint64_t best_cost = laid.cost_after;
  if (options.moves > 0) {
    RescheduleOptions search;
    search.moves = options.moves;
    search.seed = options.seed;
    search.fixed_inputs = layout.fixed_inputs;
    search.keep_last = options.sideways;
    search.temp_first = options.temp_first;
    search.temp_last = options.temp_last;
    RescheduleStats rs;
    if (auto found = Reschedule(program, search, &rs); found && rs.cost_after < best_cost) {
      best = std::move(*found);
      best_cost = rs.cost_after;
      step.rescheduled = true;
    }
    step.moves = rs.moves;
    // The last state laid out as the input would be is no step at all.
    if (best_cost >= program.cost && options.sideways && !rs.last.empty() && rs.last != best) {
      best = std::move(rs.last);
      step.sideways = step.rescheduled = true;
    }
  }
  if (options.placed_moves > 0) {
    // From the cheaper of the input as written and its flow layout.
    std::optional<IrProgram> laid_out;
    if (laid.cost_after < program.cost)
      if (auto c = CompileIr(OptimizeIr(program, nullptr, layout), kMask32LineCap)) laid_out = std::move(*c);
    PlacedAnnealOptions search;
    search.moves = options.placed_moves;
    search.seed = options.seed;
    search.fixed_inputs = layout.fixed_inputs;
    search.temp_first = options.temp_first;
    search.temp_last = options.temp_last;
    search.keep_last = options.sideways && !step.sideways;
    PlacedAnnealStats ps;
    auto found = AnnealPlaced(laid_out ? *laid_out : program, search, &ps);
    step.placed_moves = ps.moves;
    if (found && ps.cost_after < best_cost) {
      best = std::move(*found);
      best_cost = ps.cost_after;
      step.rescheduled = ps.reorders + ps.copies_added + ps.copies_dropped > 0;
      step.sideways = false;
    } else if (best_cost >= program.cost && search.keep_last && !ps.last.empty()) {
      best = std::move(ps.last);
      step.sideways = step.rescheduled = true;
    }
  }
  if (best_cost >= program.cost && !step.sideways)
    return tl::unexpected(fmt::format(
        "nothing cheaper than {} found: flow layout {}{}{}", program.cost, laid.cost_after,
        options.moves == 0 ? std::string(", no annealing by layout asked")
        : program.ops.size() > RescheduleOptions{}.max_ops
            ? fmt::format(", no annealing by layout ({} ops, more than {})", program.ops.size(),
                          RescheduleOptions{}.max_ops)
            : fmt::format(", {} annealing moves by layout from seed {}", step.moves, options.seed),
        options.placed_moves == 0 ? std::string(", no annealing as written asked")
                                  : fmt::format(", {} moves as written", step.placed_moves)));
  // The result is checked as any candidate would be: a wrong program never
  // leaves this function, whatever the passes above did.
  auto after = CompileIr(best, kMask32LineCap);
  if (!after) return tl::unexpected("internal error: the improved program does not compile: " + after.error().Describe());
  auto checked = CheckBoard(board, *after);
  if (!checked)
    return tl::unexpected("internal error: the improved program fails the checker: " + checked.error().Describe());
  // The bound of the result's own order (the annealer changed it).
  OptimizeStats bound;
  OptimizeIr(*after, &bound, layout);  // only its statistics are wanted
  step.text = std::move(best);
  step.cost_after = checked->cost;
  step.lower_bound = bound.lower_bound;
  step.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return step;
}

}  // namespace ergon::evaluators::dally
