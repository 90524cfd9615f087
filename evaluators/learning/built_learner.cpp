#include "evaluators/learning/built_learner.h"

#include <chrono>

#include "sandbox/compiler.h"

namespace ergon::evaluators::learning {

tl::expected<BuiltLearner, BuildFailure> BuildLearner(const sandbox::Sandbox& sb, const std::string& source,
                                                      bool cuda) {
  auto dir = sandbox::ScratchDir::Create(sb, "ergon-learner-");
  if (!dir) return tl::unexpected(BuildFailure{dir.error(), "", 0});
  sandbox::CompileRequest req;
  req.source = source;
  req.language = cuda ? sandbox::Language::kCuda : sandbox::Language::kCpp;
  req.output_dir = dir->path();
  req.timeout_s = 180;
  // Line tables only: the cachemodel's profile can then name the candidate's
  // hot lines. GCC emits the same code with and without -g, so no count moves.
  if (!cuda) req.flags = {"-g1"};
  const auto t0 = std::chrono::steady_clock::now();
  auto built = sandbox::Compile(sb, req);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!built) return tl::unexpected(BuildFailure{built.error(), "", seconds});
  if (!built->ok) return tl::unexpected(BuildFailure{"the learner does not compile", built->diagnostics, seconds});
  return BuiltLearner{std::move(*dir), built->executable, seconds};
}

}  // namespace ergon::evaluators::learning
