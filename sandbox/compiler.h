// Compiling a candidate: g++ for C++, nvcc for CUDA, inside the sandbox.
//
// The compiler itself runs sandboxed (a source file can #include any path
// and a template can make cc1plus run for ever), in a fresh scratch directory
// that also receives the executable.
#pragma once

#include <string>
#include <vector>

#include "sandbox/sandbox.h"

namespace ergon::sandbox {

enum class Language { kCpp, kCuda };

struct CompileRequest {
  std::string source;                 // the candidate's text
  Language language = Language::kCpp;
  std::vector<std::string> flags;     // extra flags after the defaults
  std::string output_dir;             // existing dir to build in (scratch)
  double timeout_s = 60;
  std::size_t diagnostics_cap = 16 << 10;  // bytes of compiler output kept
  // C++, in a sandbox made with precompiled_headers: the system headers the
  // source includes first come precompiled (precompiled_header.h); the
  // executable is the same byte for byte either way.
  bool precompiled_headers = true;
};

struct CompileOutput {
  bool ok = false;
  std::string executable;     // absolute path when ok
  std::string diagnostics;    // compiler stderr+stdout, capped, for the agent
  RunResult run;              // how the compiler process ended
};

// The compiler command for a language, or an error naming what is missing
// (e.g. "nvcc not found: install the CUDA Toolkit or set CUDA_HOME").
Result<std::string> FindCompiler(Language language);

// Writes the source into request.output_dir and compiles it there.
// Returns an error only if the host cannot run the compiler at all; a
// candidate that does not compile is CompileOutput{ok=false}.
Result<CompileOutput> Compile(const Sandbox& sandbox, const CompileRequest& request);

}  // namespace ergon::sandbox
