#include "evaluators/learning/nvml_meter.h"

#include <dlfcn.h>

#include <chrono>
#include <thread>

#include <fmt/core.h>

namespace ergon::evaluators::learning {
namespace {
using Clock = std::chrono::steady_clock;
// NVML's C ABI (nvml.h), declared here so no CUDA header is needed.
using nvmlReturn_t = int;
using nvmlDevice_t = void*;
constexpr unsigned kClockSm = 1, kClockMem = 2;  // NVML_CLOCK_SM, NVML_CLOCK_MEM
}  // namespace

struct NvmlMeter::Api {
  nvmlReturn_t (*init)();
  nvmlReturn_t (*shutdown)();
  nvmlReturn_t (*handle)(unsigned, nvmlDevice_t*);
  nvmlReturn_t (*energy)(nvmlDevice_t, unsigned long long*);
  nvmlReturn_t (*clock)(nvmlDevice_t, unsigned, unsigned*);
  nvmlReturn_t (*name)(nvmlDevice_t, char*, unsigned);
  const char* (*error_string)(nvmlReturn_t);
};

tl::expected<std::unique_ptr<NvmlMeter>, std::string> NvmlMeter::Open(unsigned index) {
  void* lib = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return tl::unexpected(std::string("unavailable: libnvidia-ml.so.1 not found (no NVIDIA driver)"));
  std::unique_ptr<NvmlMeter> m(new NvmlMeter);
  m->lib_ = lib;
  m->api_ = std::make_unique<Api>();
  auto sym = [&](const char* n) { return ::dlsym(lib, n); };
  Api& a = *m->api_;
  a.init = reinterpret_cast<nvmlReturn_t (*)()>(sym("nvmlInit_v2"));
  a.shutdown = reinterpret_cast<nvmlReturn_t (*)()>(sym("nvmlShutdown"));
  a.handle = reinterpret_cast<nvmlReturn_t (*)(unsigned, nvmlDevice_t*)>(sym("nvmlDeviceGetHandleByIndex_v2"));
  a.energy = reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, unsigned long long*)>(sym("nvmlDeviceGetTotalEnergyConsumption"));
  a.clock = reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, unsigned, unsigned*)>(sym("nvmlDeviceGetClockInfo"));
  a.name = reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned)>(sym("nvmlDeviceGetName"));
  a.error_string = reinterpret_cast<const char* (*)(nvmlReturn_t)>(sym("nvmlErrorString"));
  if (!a.init || !a.shutdown || !a.handle || !a.energy || !a.clock || !a.name)
    return tl::unexpected(std::string("unavailable: libnvidia-ml lacks the functions ergon needs"));
  if (nvmlReturn_t rc = a.init(); rc != 0)
    return tl::unexpected(fmt::format("unavailable: nvmlInit failed ({})", a.error_string ? a.error_string(rc) : "?"));
  m->initialised_ = true;  // from here on the destructor owes nvmlShutdown
  if (nvmlReturn_t rc = a.handle(index, &m->device_); rc != 0)
    return tl::unexpected(fmt::format("unavailable: no GPU {} ({})", index, a.error_string ? a.error_string(rc) : "?"));
  return m;
}

NvmlMeter::~NvmlMeter() {
  if (initialised_) api_->shutdown();
  if (lib_) ::dlclose(lib_);
}

tl::expected<std::uint64_t, std::string> NvmlMeter::EnergyMj() const {
  unsigned long long mj = 0;
  if (nvmlReturn_t rc = api_->energy(device_, &mj); rc != 0)
    return tl::unexpected(fmt::format("nvmlDeviceGetTotalEnergyConsumption failed ({})", rc));
  return static_cast<std::uint64_t>(mj);
}

tl::expected<NvmlReading, std::string> NvmlMeter::Measure(const std::function<void()>& work, double idle_s) const {
  // Waits until the counter changes; returns its new value and the time.
  auto edge = [&]() -> tl::expected<std::pair<std::uint64_t, Clock::time_point>, std::string> {
    auto first = EnergyMj();
    if (!first) return tl::unexpected(first.error());
    auto deadline = Clock::now() + std::chrono::seconds(2);
    for (;;) {
      auto v = EnergyMj();
      if (!v) return tl::unexpected(v.error());
      if (*v != *first) return std::make_pair(*v, Clock::now());
      if (Clock::now() > deadline) return tl::unexpected(std::string("the energy counter did not move for 2 s"));
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  };
  auto secs = [](Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
  NvmlReading r;
  char name[96] = {};
  api_->name(device_, name, sizeof name);
  r.device_name = name;
  // Counter period: mean gap over a few edges.
  auto e0 = edge();
  if (!e0) return tl::unexpected(e0.error());
  auto e1 = edge();
  auto e2 = edge();
  if (!e1 || !e2) return tl::unexpected(std::string("energy counter edges not observed"));
  r.update_period_s = secs(e0->second, e2->second) / 2;
  // Idle power over at least idle_s, edge to edge.
  auto i0 = edge();
  if (!i0) return tl::unexpected(i0.error());
  std::this_thread::sleep_for(std::chrono::duration<double>(idle_s));
  auto i1 = edge();
  if (!i1) return tl::unexpected(i1.error());
  r.idle_w = static_cast<double>(i1->first - i0->first) / 1e3 / secs(i0->second, i1->second);
  // The run itself. It starts right at a counter edge; it ends between two
  // edges, so the energy up to the next edge holds a slack of up to one period
  // (measured on an H200: up to 13 J at 130 W, a 12% spread between equal
  // runs). The slack is charged at the power seen over the following period
  // and taken out, so the reading covers the run alone.
  auto s = edge();
  if (!s) return tl::unexpected(s.error());
  work();
  const auto work_end = Clock::now();
  api_->clock(device_, kClockSm, &r.sm_clock_mhz);
  api_->clock(device_, kClockMem, &r.mem_clock_mhz);
  auto e = edge();
  if (!e) return tl::unexpected(e.error());
  auto after = edge();
  if (!after) return tl::unexpected(after.error());
  r.after_w = static_cast<double>(after->first - e->first) / 1e3 / secs(e->second, after->second);
  r.window_s = secs(s->second, work_end);
  r.slack_s = secs(work_end, e->second);
  r.total_j = static_cast<double>(e->first - s->first) / 1e3 - r.after_w * r.slack_s;
  r.idle_subtracted_j = r.total_j - r.idle_w * r.window_s;
  return r;
}

}  // namespace ergon::evaluators::learning
