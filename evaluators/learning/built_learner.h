// A learner's source compiled in the sandbox (g++ or nvcc), shared by every
// task that runs learners, so they build alike.
#pragma once

#include <string>

#include <tl/expected.hpp>

#include "sandbox/sandbox.h"

namespace ergon::evaluators::learning {

struct BuiltLearner {
  sandbox::ScratchDir dir;  // holds the executable; bind it read-only into runs
  std::string executable;
  double compile_s = 0;
};

struct BuildFailure {
  std::string error;        // in words: "the learner does not compile", or the host's problem
  std::string diagnostics;  // the compiler's, capped
  double compile_s = 0;
};

tl::expected<BuiltLearner, BuildFailure> BuildLearner(const sandbox::Sandbox& sandbox, const std::string& source,
                                                      bool cuda);

}  // namespace ergon::evaluators::learning
