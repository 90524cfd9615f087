// How a run picks the program each proposal starts from (issue 29's arms):
//
//  - evolve: a parent sampled from the archive's islands, with inspirations
//    and the run's digest in the prompt (ergon's search);
//  - independent: always the task's baseline, with no archive context: the
//    matched-budget baseline a study compares a search against;
//  - hillclimb: always the current best, with no inspirations.
//
// The same agents, budgets and evaluation serve each; only the start and
// the prompt's context differ. Stored with the run (its settings).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ergon::engine {

enum class Strategy : std::uint8_t { kEvolve, kIndependent, kHillclimb };

inline constexpr const char* kStrategyNames = "evolve | independent | hillclimb";

std::string_view StrategyName(Strategy s);
std::optional<Strategy> ParseStrategy(std::string_view name);

}  // namespace ergon::engine
