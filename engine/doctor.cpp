#include "engine/doctor.h"

#include <dlfcn.h>
#include <unistd.h>

#include <fmt/core.h>

#include "engine/home.h"
#include "evaluators/meter.h"
#include "evaluators/task.h"
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
    if (sb->level() == sandbox::IsolationLevel::kBubblewrap) {
      fmt::print("candidates see only:\n");
      for (const auto& e : sandbox::CandidateSystemView()) fmt::print("            {:<24} {}\n", e.path, e.how);
      fmt::print("            and their work dir (writable), what their task makes visible, the GPU's device nodes "
                 "and /sys for GPU tasks\n");
    } else {
      fmt::print("            WEAKER THAN IT SHOULD BE: without bubblewrap and user namespaces a candidate reads every "
                 "file its uid may read (home folders, archives, other tasks, data sets): apt-get install bubblewrap, "
                 "and enable unprivileged user namespaces or run as root\n");
    }
  } else {
    fmt::print("sandbox:    UNAVAILABLE: {}\n", sb.error());
    rc = 1;
  }
  auto gxx = sandbox::FindCompiler(sandbox::Language::kCpp);
  fmt::print("c++:        {}\n", gxx ? *gxx : gxx.error());
  auto nvcc = sandbox::FindCompiler(sandbox::Language::kCuda);
  fmt::print("cuda:       {}\n", nvcc ? *nvcc : nvcc.error());
  for (const auto& [meter, there] : evaluators::MeterAvailability())
    fmt::print("{:<12}{}\n", meter + ":", there);
  // Loaded only when an HTTP agent runs; say now whether it will load.
  void* curl = ::dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL);
  fmt::print("http:       {}\n", curl ? "libcurl.so.4 loads (openai and anthropic agents)"
                                         : "libcurl.so.4 missing (apt-get install libcurl4): only offline and cli agents");
  if (curl) ::dlclose(curl);
  // Tasks, with any folder whose task.json is broken.
  if (home) {
    const auto reg = evaluators::TaskRegistry::Load(*home, {});
    std::string names;
    for (const auto& t : reg.specs()) names += (names.empty() ? "" : ", ") + t.name + (t.external() ? " (external)" : "");
    fmt::print("tasks:      {}\n", names.empty() ? "none" : names);
    for (const auto& p : reg.problems()) {
      fmt::print("            BROKEN: {}\n", p);
      rc = 1;
    }
  }
  return rc;
}

}  // namespace ergon::engine
