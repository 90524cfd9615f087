#include "evaluators/learning/metered_run.h"

#include <fmt/core.h>

namespace ergon::evaluators::learning {
namespace {
// The candidate's file as the compiler saw it (sandbox/compiler.cpp).
constexpr const char* kOwnFile = "/candidate.cpp";
}  // namespace

tl::expected<LearnerMeter, std::string> LearnerMeter::Open(const std::string& meter) {
  LearnerMeter m;
  m.meter_ = meter;
  if (meter == "nvml") {
    auto n = NvmlMeter::Open();
    if (!n) return tl::unexpected("nvml " + n.error());
    m.nvml_ = std::move(*n);
  } else if (meter == "cachemodel") {
    if (auto v = FindValgrind(); !v) return tl::unexpected(v.error());
  } else if (meter != "wall") {
    return tl::unexpected(fmt::format("unknown meter '{}' (cachemodel | nvml | wall)", meter));
  }
  return m;
}

tl::expected<MeteredRun, std::string> LearnerMeter::Run(const sandbox::Sandbox& sb, sandbox::RunSpec spec,
                                                        bool gpu) const {
  if (meter_ == "cachemodel") spec.argv = cachegrind_.Wrap(spec.argv, spec.work_dir);
  if (gpu || nvml_) sandbox::GrantGpuAccess(spec);
  MeteredRun out;
  tl::expected<sandbox::RunResult, std::string> ran = tl::unexpected(std::string("not run"));
  if (nvml_) {
    auto reading = nvml_->Measure([&] { ran = sb.Run(spec); });
    if (!ran) return tl::unexpected(ran.error());
    if (!reading) out.meter_error = "nvml: " + reading.error();
    else {
      out.nvml = *reading;
      out.energy_j = reading->total_j;
    }
  } else {
    ran = sb.Run(spec);
    if (!ran) return tl::unexpected(ran.error());
  }
  out.run = std::move(*ran);
  if (meter_ == "cachemodel" && out.run.ok()) {
    auto counts = cachegrind_.Collect(spec.work_dir);
    if (!counts) out.meter_error = counts.error();
    else {
      out.counts = *counts;
      out.components = cachegrind_.Energy(*counts);
      out.energy_j = out.components.total_j();
      // The profile is advice for the next proposal, never part of the score:
      // a profile that cannot be read leaves it empty.
      if (auto p = ReadEnergyProfile(spec.work_dir, cachegrind_.model(), kOwnFile)) out.profile = std::move(*p);
    }
  }
  return out;
}

}  // namespace ergon::evaluators::learning
