#include "evaluators/dally_parity/harness/generator.h"

#include <chrono>

#include "sandbox/compiler.h"

namespace ergon::evaluators {

std::size_t MemoBytes(const GeneratorRun& run) { return run.printed.size() + run.stderr_text.size(); }

tl::expected<GeneratorRun, GeneratorFailure> RunGenerator(const sandbox::Sandbox& sb, const std::string& source,
                                                          const GeneratorLimits& limits, PrintedPrograms* memo) {
  // A run remembered under looser limits counts only if it kept within these.
  if (memo)
    if (auto seen = memo->Find(source); seen && seen->wall_s <= limits.wall_s && seen->cpu_s <= limits.cpu_s) {
      seen->remembered = true;
      return *seen;
    }
  auto dir = sandbox::ScratchDir::Create(sb, "ergon-generator-");
  if (!dir) return tl::unexpected(GeneratorFailure{"compile", dir.error(), ""});
  sandbox::CompileRequest c;
  c.source = source;
  c.output_dir = dir->path();
  c.flags = {"-O1"};  // after the default -O2, so it wins
  const auto t0 = std::chrono::steady_clock::now();
  auto built = sandbox::Compile(sb, c);
  GeneratorRun out;
  out.compile_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!built) return tl::unexpected(GeneratorFailure{"compile", built.error(), ""});
  if (!built->ok) return tl::unexpected(GeneratorFailure{"compile", "the generator does not compile", built->diagnostics});
  // A 2,000,000-line program is legal: ~20 bytes a line.
  sandbox::RunSpec run;
  run.argv = {built->executable};
  run.work_dir = dir->path();
  run.limits.wall_s = limits.wall_s;
  run.limits.cpu_s = limits.cpu_s;
  run.limits.address_space = 2ull << 30;
  run.limits.file_size = 16ull << 20;
  run.limits.stdout_cap = 96ull << 20;
  run.limits.stderr_cap = 16 << 10;
  auto ran = sb.Run(run);
  if (!ran) return tl::unexpected(GeneratorFailure{"run", ran.error(), ""});
  if (!ran->ok()) return tl::unexpected(GeneratorFailure{"run", "the generator failed: " + ran->Describe(), ran->stderr_text});
  out.printed = std::move(ran->stdout_text);
  out.stderr_text = std::move(ran->stderr_text);
  out.wall_s = ran->wall_s;
  out.cpu_s = ran->user_s + ran->sys_s;
  if (memo) memo->Keep(source, out);
  return out;
}

}  // namespace ergon::evaluators
