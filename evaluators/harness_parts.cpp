#include "evaluators/harness_parts.h"

#include <fmt/core.h>

namespace ergon::evaluators {

std::string LearnerComponents(const std::string& meter, std::size_t instances, const learning::EnergyBreakdown& c,
                              const learning::CacheCounts& counts, const learning::EnergyProfile& profile) {
  if (meter != "cachemodel") return fmt::format("{{\"instances\":{}}}", instances);
  // The profile's top 8 functions and lines: enough for a prompt, a few
  // hundred bytes in the row.
  return fmt::format("{{\"instances\":{},\"instructions_j\":{:.17g},\"l1_j\":{:.17g},\"ll_j\":{:.17g},"
                     "\"dram_j\":{:.17g},\"Ir\":{},\"profile\":{}}}",
                     instances, c.instructions_j, c.l1_j, c.ll_j, c.dram_j, counts.ir, profile.TopJson(8));
}

// The cachemodel's breakdown, as the second line of a learner's text.
std::string ComponentsLine(const learning::EnergyBreakdown& c) {
  return fmt::format("\n  components per instance: instructions {:.3e} J, L1 {:.3e} J, LL {:.3e} J, DRAM {:.3e} J",
                     c.instructions_j, c.l1_j, c.ll_j, c.dram_j);
}

}  // namespace ergon::evaluators
