// A dally_parity generator, built and run: what it printed.
//
// Every path that needs a generator's output (an evaluation on any suite,
// the layout transformation of a parent, the submission kit) goes through
// RunGenerator, so all build it the same way. A run keeps what each source
// printed in a PrintedPrograms memo: the same source is then not compiled and
// run again (the fresh-suite check of a new best, the transformation of a
// parent just evaluated). Only sandboxed runs fill it.
#pragma once

#include <cstddef>
#include <string>

#include <tl/expected.hpp>

#include "evaluators/text_memo.h"
#include "sandbox/sandbox.h"

namespace ergon::evaluators {

// What one sandboxed run of a generator gave.
struct GeneratorRun {
  std::string printed;      // its stdout: the IR program
  std::string stderr_text;  // capped
  double compile_s = 0, wall_s = 0, cpu_s = 0;
  bool remembered = false;  // from the memo: not compiled or run this time
};

struct GeneratorFailure {
  std::string stage;     // compile | run
  std::string status;    // in words
  std::string feedback;  // compiler diagnostics or the generator's stderr
};

struct GeneratorLimits {
  double wall_s = 120, cpu_s = 60;
};

// What recent generators printed, by their exact source text.
std::size_t MemoBytes(const GeneratorRun& run);
using PrintedPrograms = TextMemo<GeneratorRun>;

// Compiles the source (g++ -O1: a generator's speed is not what is measured,
// and -O1 halves the compile of a typical one) and runs it in the sandbox, or
// finds what it printed in `memo` (may be null).
tl::expected<GeneratorRun, GeneratorFailure> RunGenerator(const sandbox::Sandbox& sandbox, const std::string& source,
                                                          const GeneratorLimits& limits, PrintedPrograms* memo);

}  // namespace ergon::evaluators
