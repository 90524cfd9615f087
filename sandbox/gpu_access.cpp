#include <glob.h>

#include <cstdlib>

#include "sandbox/sandbox.h"

namespace ergon::sandbox {

std::vector<std::string> NvidiaDeviceNodes() {
  std::vector<std::string> devs;
  glob_t g{};
  if (::glob("/dev/nvidia*", 0, nullptr, &g) == 0)
    for (std::size_t i = 0; i < g.gl_pathc; ++i) devs.emplace_back(g.gl_pathv[i]);
  ::globfree(&g);
  return devs;
}

void GrantGpuAccess(RunSpec& spec) {
  spec.devices = NvidiaDeviceNodes();
  // CUDA programs start by reserving tens of GiB of virtual address space.
  spec.limits.address_space = 0;
  // Where the driver's libcuda.so lives is the host's business (a container
  // may keep it in a read-only mount reached only through LD_LIBRARY_PATH);
  // the cleared environment would otherwise hide it from the learner.
  for (const char* name : {"LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES"})
    if (const char* v = std::getenv(name); v && *v) spec.env.emplace_back(name, v);
}

}  // namespace ergon::sandbox
