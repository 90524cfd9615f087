// NvmlMeter: the GPU's own energy counter, read through libnvidia-ml loaded
// with dlopen, so ergon builds and runs on hosts with no GPU and no driver
// (Open then says "unavailable: ..." and callers skip, visibly).
//
// The counter (nvmlDeviceGetTotalEnergyConsumption, mJ since driver load)
// updates every ~100 ms, so a measurement is taken between counter edges,
// with the idle power measured just before.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <tl/expected.hpp>

namespace ergon::evaluators::learning {

struct NvmlReading {
  double total_j = 0;          // energy of the run's window (edge slack taken out)
  double idle_w = 0;           // measured just before
  double idle_subtracted_j = 0;  // total_j - idle_w * window_s
  double window_s = 0;         // from the counter edge the run started on to its end
  double slack_s = 0;          // from the run's end to the next counter edge
  double after_w = 0;          // power over the period after that edge
  double update_period_s = 0;  // observed counter period
  unsigned sm_clock_mhz = 0, mem_clock_mhz = 0;
  std::string device_name;
};

class NvmlMeter {
 public:
  // Loads libnvidia-ml.so.1 and opens GPU `index`.
  static tl::expected<std::unique_ptr<NvmlMeter>, std::string> Open(unsigned index = 0);
  ~NvmlMeter();
  NvmlMeter(const NvmlMeter&) = delete;
  NvmlMeter& operator=(const NvmlMeter&) = delete;

  tl::expected<std::uint64_t, std::string> EnergyMj() const;
  // Measures idle power over ~idle_s, then runs `work` between counter edges.
  tl::expected<NvmlReading, std::string> Measure(const std::function<void()>& work, double idle_s = 1.0) const;

 private:
  NvmlMeter() = default;
  struct Api;
  std::unique_ptr<Api> api_;
  void* lib_ = nullptr;
  void* device_ = nullptr;
  bool initialised_ = false;
};

}  // namespace ergon::evaluators::learning
