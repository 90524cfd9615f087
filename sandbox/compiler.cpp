#include "sandbox/compiler.h"

#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include <fmt/core.h>

#include "sandbox/precompiled_header.h"

namespace ergon::sandbox {

Result<std::string> FindCompiler(Language language) {
  if (language == Language::kCpp) {
    for (const char* c : {"/usr/bin/g++", "/usr/local/bin/g++"})
      if (::access(c, X_OK) == 0) return std::string(c);
    return tl::unexpected(std::string("g++ not found: apt-get install g++"));
  }
  std::vector<std::string> tries;
  if (const char* home = std::getenv("CUDA_HOME")) tries.push_back(std::string(home) + "/bin/nvcc");
  tries.push_back("/usr/local/cuda/bin/nvcc");
  tries.push_back("/usr/bin/nvcc");
  for (const auto& c : tries)
    if (::access(c.c_str(), X_OK) == 0) return c;
  return tl::unexpected(std::string("nvcc not found: install the CUDA Toolkit or set CUDA_HOME"));
}

Result<CompileOutput> Compile(const Sandbox& sandbox, const CompileRequest& request) {
  auto compiler = FindCompiler(request.language);
  if (!compiler) return tl::unexpected(compiler.error());
  const bool cuda = request.language == Language::kCuda;
  const std::string src = request.output_dir + (cuda ? "/candidate.cu" : "/candidate.cpp");
  const std::string exe = request.output_dir + "/candidate";
  {
    std::ofstream f(src, std::ios::binary);
    f << request.source;
    if (!f) return tl::unexpected(fmt::format("cannot write {}", src));
  }
  RunSpec spec;
  spec.argv = {*compiler};
  if (cuda) spec.argv.insert(spec.argv.end(), {"-O2", "-std=c++17"});
  else spec.argv.insert(spec.argv.end(), {"-O2", "-std=c++20", "-pipe"});
  spec.argv.insert(spec.argv.end(), request.flags.begin(), request.flags.end());
  if (!cuda && sandbox.precompiled_headers() && request.precompiled_headers) {
    const std::vector<std::string> flags(spec.argv.begin() + 1, spec.argv.end());
    const std::string pch = sandbox.pch().For(sandbox, *compiler, flags, LeadingSystemIncludes(request.source));
    if (!pch.empty()) {
      spec.argv.insert(spec.argv.end(), {"-include", pch + "/ergon_pch.h"});
      spec.read_only_paths.push_back(pch);
    }
  }
  spec.argv.insert(spec.argv.end(), {"-o", exe, src});
  spec.work_dir = request.output_dir;
  spec.limits.wall_s = request.timeout_s;
  spec.limits.cpu_s = request.timeout_s;
  spec.limits.address_space = cuda ? 0 : (4ull << 30);  // cc1plus on big templates
  spec.limits.file_size = 256ull << 20;
  spec.limits.processes = 64;
  spec.limits.stdout_cap = request.diagnostics_cap;
  spec.limits.stderr_cap = request.diagnostics_cap;
  auto run = sandbox.Run(spec);
  if (!run) return tl::unexpected(run.error());

  CompileOutput out;
  out.run = *run;
  out.diagnostics = run->stderr_text + run->stdout_text;
  if (run->stderr_truncated) out.diagnostics += "\n[diagnostics truncated]\n";
  out.ok = run->ok() && ::access(exe.c_str(), X_OK) == 0;
  if (out.ok) out.executable = exe;
  else if (!run->ok() && run->outcome != Outcome::kExitCode)
    out.diagnostics += "\ncompiler: " + run->Describe() + "\n";
  return out;
}

}  // namespace ergon::sandbox
