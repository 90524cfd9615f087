#include <glob.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

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
  // ... and the folders it names must be in the candidate's view (an
  // allow-list: /usr/local/nvidia/lib64 of a container is not in it).
  if (const char* v = std::getenv("LD_LIBRARY_PATH"); v && *v) {
    const std::string dirs = v;
    for (std::size_t pos = 0; pos <= dirs.size();) {
      std::size_t next = dirs.find(':', pos);
      if (next == std::string::npos) next = dirs.size();
      const std::string dir = dirs.substr(pos, next - pos);
      struct stat st {};
      if (!dir.empty() && dir[0] == '/' && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        spec.read_only_paths.push_back(dir);
      pos = next + 1;
    }
  }
}

}  // namespace ergon::sandbox
