#include "engine/strategy.h"

namespace ergon::engine {

std::string_view StrategyName(Strategy s) {
  switch (s) {
    case Strategy::kEvolve: return "evolve";
    case Strategy::kIndependent: return "independent";
    case Strategy::kHillclimb: return "hillclimb";
  }
  return "evolve";
}

std::optional<Strategy> ParseStrategy(std::string_view name) {
  for (Strategy s : {Strategy::kEvolve, Strategy::kIndependent, Strategy::kHillclimb})
    if (StrategyName(s) == name) return s;
  return std::nullopt;
}

}  // namespace ergon::engine
