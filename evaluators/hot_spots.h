// What a prompt and `archive show` say about where a candidate's energy
// went, read from the components JSON its evaluation stored (the cachemodel's
// breakdown and profile: evaluators/learning/energy_profile.h).
#pragma once

#include <cstddef>
#include <string>

namespace ergon::evaluators {

// The top `n` functions and lines of the candidate's own source, each with
// its share of the joules and where within it they went; a line is quoted
// from `source`. Empty when the evaluation has no profile.
std::string HotSpotsText(const std::string& components_json, const std::string& source, std::size_t n);

// How each component (instructions, L1, LL, DRAM) moved from `before` to
// `after`: "L1 -98%, instructions -95%, ...", largest move first. Empty when
// either has no breakdown.
std::string ComponentChange(const std::string& before_json, const std::string& after_json);

}  // namespace ergon::evaluators
