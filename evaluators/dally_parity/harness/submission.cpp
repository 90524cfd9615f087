#include "base/digest.h"
#include "evaluators/dally_parity/harness/submission.h"

#include <array>

#include <fmt/core.h>

#include "evaluators/dally/ir.h"
#include "evaluators/dally/mask32.h"
#include "evaluators/dally_parity/harness/evaluate.h"
#include "genome/genome.h"

namespace ergon::evaluators {
namespace {

constexpr std::array<const char*, 13> kOpNames = {"set", "copy", "not", "abs", "add", "sub", "mul",
                                                   "div", "and", "or",  "xor", "cmp", "select"};

struct SuiteResult {
  std::string key;
  dally::MaskScore score;
};

tl::expected<SuiteResult, std::string> Score(const dally::IrProgram& p, const std::string& key, std::size_t n,
                                             const std::string& suites_dir) {
  auto suite = dally::MakeMaskSuite(key, n, suites_dir);
  if (!suite) return tl::unexpected(suite.error());
  auto s = dally::ScoreMask32(p, *suite);
  if (!s) return tl::unexpected(s.error().Describe());
  return SuiteResult{key, *s};
}

std::string Percent(double r) { return fmt::format("{:.4f}%", 100 * r); }

}  // namespace

tl::expected<std::map<std::string, std::string>, std::string> DallySubmission(const sandbox::Sandbox& sb,
                                                                             const DallySubmissionRequest& q) {
  auto ir = RunDallyGenerator(sb, q.generator);
  if (!ir) return tl::unexpected(ir.error());
  auto prog = dally::CompileIr(*ir, dally::kMask32LineCap);
  if (!prog) return tl::unexpected("the generator prints invalid IR: " + prog.error().Describe());
  const std::string sha = base::Sha256Hex(*ir);
  auto dev = Score(*prog, "dev", 0, q.suites_dir);
  if (!dev) return tl::unexpected("dev suite: " + dev.error());
  // Audit keys come from the IR's own hash: nobody picks them, anyone can
  // regenerate them.
  std::vector<SuiteResult> audits;
  for (int i = 0; i < 2; ++i) {
    const std::string key = "audit-" + sha.substr(static_cast<std::size_t>(16 * i), 16);
    auto a = Score(*prog, key, q.audit_instances, q.suites_dir);
    if (!a) return tl::unexpected("audit suite " + key + ": " + a.error());
    audits.push_back(*a);
  }
  std::array<std::size_t, kOpNames.size()> ops{};
  for (const auto& op : prog->ops) ++ops[static_cast<std::size_t>(op.code)];

  std::string r = fmt::format("# Sparse Parity: {}\n\n", q.title);
  r += fmt::format("**Found by:** ergon (an automated search; see the lineage below)\n");
  r += fmt::format("**Date:** {}  \n**Problem:** MASK32 sparse parity, {:g}% target  \n", q.date, 100 * q.band);
  r += fmt::format("**Cost:** {}\n", dally::WithCommas(prog->cost));
  r += fmt::format("**IR lines:** {} ({} body operations)\n", dally::WithCommas(prog->lines),
                   dally::WithCommas(prog->ops.size()));
  r += "**IR:** [`program.ir`](program.ir)  \n";
  r += fmt::format("**Generator:** [`{0}`]({0})\n\n", q.generator_file);
  r += "## Result\n\n";
  r += fmt::format("The generator's IR recovers **{}** ({} of {}) of the deterministic dev suite (key `dev`) at static "
                   "read cost **{}**.\n\n",
                   Percent(dev->score.recovery), dev->score.correct, dev->score.instances,
                   dally::WithCommas(prog->cost));
  r += "An audit on keyed suites whose keys are taken from the IR's SHA-256 (so not chosen by the submitter):\n\n";
  r += "| suite key | instances | recovered | recovery |\n|---|---:|---:|---:|\n";
  r += fmt::format("| `dev` | {} | {} | {} |\n", dev->score.instances, dev->score.correct, Percent(dev->score.recovery));
  for (const auto& a : audits)
    r += fmt::format("| `{}` | {} | {} | {} |\n", a.key, a.score.instances, a.score.correct, Percent(a.score.recovery));
  r += "\n## Opcode counts\n\n| opcode | count |\n|---|---:|\n";
  for (std::size_t i = 0; i < ops.size(); ++i)
    if (ops[i]) r += fmt::format("| `{}` | {} |\n", kOpNames[i], dally::WithCommas(ops[i]));
  r += "\n## Method\n\n" + (q.method.empty() ? std::string("(no intent recorded)") : q.method) + "\n\n";
  r += "## Lineage (newest first)\n\n";
  for (const auto& l : q.lineage) r += "- " + l + "\n";
  r += "\n## Reproduce\n\n```sh\n";
  r += fmt::format("g++ -O2 -std=c++20 -o generator {} && ./generator > out.ir\n", q.generator_file);
  r += "sha256sum out.ir program.ir   # both: " + sha + "\n";
  r += "ergon score program.ir --tier mask32 --suite dev\n";
  for (const auto& a : audits)
    r += fmt::format("ergon score program.ir --tier mask32 --suite {} --instances {}\n", a.key, a.score.instances);
  r += "```\n\n";
  r += fmt::format("SHA-256 of the IR (including the final newline): `{}`.\n", sha);
  return std::map<std::string, std::string>{{"program.ir", *ir}, {"REPORT.md", r}};
}

}  // namespace ergon::evaluators
