#include "evaluators/harness_parts.h"

#include <algorithm>
#include <cmath>

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

Measurement LearnerMeasurement(const learning::LearnEvalReport& r, std::string version, const std::string& task) {
  Measurement m = Outline(r, std::move(version), r.meter, learning::LearnReportJson(r, task));
  if (!r.ran) return m;
  m.metrics = {{"accuracy", r.accuracy}, {"wall_s", r.wall_s}, {"cpu_s", r.cpu_s}};
  if (r.energy_j) m.metrics["energy_j"] = *r.energy_j;
  m.components = LearnerComponents(r.meter, r.per_instance.size(), r.components, r.counts, r.profile);
  m.cell = fmt::format("acc:{}|cpu:2^{}", static_cast<int>(r.accuracy * 20),
                       static_cast<int>(std::floor(std::log2(std::max(r.cpu_s, 1e-4) * 1e3))));
  m.text = fmt::format("accuracy {:.4f} ({})  energy {}  wall {:.2f} s  cpu {:.2f} s per instance  meter {}  suite {}",
                       r.accuracy, r.gate_passed ? "gate passed" : "gate FAILED",
                       r.energy_j ? fmt::format("{:.6e} J per instance", *r.energy_j)
                                  : std::string("not measured (wall meter)"),
                       r.wall_s, r.cpu_s, r.meter, r.suite);
  if (r.meter == "cachemodel") m.text += ComponentsLine(r.components);
  return m;
}

}  // namespace ergon::evaluators
