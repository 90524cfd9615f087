#include "evaluators/meter.h"

#include <dlfcn.h>
#include <unistd.h>

namespace ergon::evaluators {

MeterTraits TraitsOf(std::string_view meter) {
  if (meter == "dally") return {true, false, false};       // static read energy of the IR
  if (meter == "cachemodel") return {true, true, false};   // cachegrind's counts, priced
  if (meter == "nvml") return {false, true, true};         // the GPU's joules
  return {};                                               // wall: time, which varies
}

std::vector<std::pair<std::string, std::string>> MeterAvailability() {
  std::vector<std::pair<std::string, std::string>> out;
  const bool valgrind = ::access("/usr/bin/valgrind", X_OK) == 0;
  out.emplace_back("cachemodel", valgrind ? "valgrind found" : "valgrind missing (apt-get install valgrind)");
  void* nvml = ::dlopen("libnvidia-ml.so.1", RTLD_LAZY | RTLD_LOCAL);
  out.emplace_back("nvml", nvml ? "libnvidia-ml.so.1 loads" : "unavailable (no NVIDIA driver)");
  if (nvml) ::dlclose(nvml);
  return out;
}

}  // namespace ergon::evaluators
