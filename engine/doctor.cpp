#include "engine/doctor.h"

#include <dlfcn.h>
#include <unistd.h>

#include <fmt/core.h>

#include "engine/home.h"
#include "sandbox/compiler.h"
#include "sandbox/sandbox.h"

namespace ergon::engine {

int Doctor() {
  int rc = 0;
  auto home = FindHome();
  fmt::print("home:       {}\n", home ? *home : "NOT FOUND: " + home.error());
  auto sb = sandbox::Sandbox::Create();
  if (sb) {
    fmt::print("sandbox:    {}\n", sb->DescribeIsolation());
  } else {
    fmt::print("sandbox:    UNAVAILABLE: {}\n", sb.error());
    rc = 1;
  }
  auto gxx = sandbox::FindCompiler(sandbox::Language::kCpp);
  fmt::print("c++:        {}\n", gxx ? *gxx : gxx.error());
  auto nvcc = sandbox::FindCompiler(sandbox::Language::kCuda);
  fmt::print("cuda:       {}\n", nvcc ? *nvcc : nvcc.error());
  bool valgrind = ::access("/usr/bin/valgrind", X_OK) == 0;
  fmt::print("cachemodel: {}\n", valgrind ? "valgrind found" : "valgrind missing (apt-get install valgrind)");
  void* nvml = ::dlopen("libnvidia-ml.so.1", RTLD_LAZY | RTLD_LOCAL);
  fmt::print("nvml:       {}\n", nvml ? "libnvidia-ml.so.1 loads" : "unavailable (no NVIDIA driver)");
  if (nvml) ::dlclose(nvml);
  return rc;
}

}  // namespace ergon::engine
