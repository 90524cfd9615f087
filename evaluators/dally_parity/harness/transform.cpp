#include "evaluators/dally_parity/harness/transform.h"

#include <filesystem>
#include <cstring>
#include <memory>
#include <optional>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "evaluators/dally/ir.h"
#include "evaluators/dally/optimize.h"
#include "evaluators/dally_parity/harness/evaluate.h"
#include "base/digest.h"
#include "base/file.h"
#include "sandbox/sandbox.h"

namespace ergon::evaluators {
namespace {

constexpr const char* kOriginBegin = "// ergon-origin-base64-begin";
constexpr const char* kOriginEnd = "// ergon-origin-base64-end";

// The optimised program and its cost before and after. Not verified here:
// the evaluation that follows scores it.
struct Optimised {
  std::string ir;
  std::uint64_t cost_before = 0, cost_after = 0;
};

// The greedy layouts only (`optimize-ir --layout fast --moves 0`): the
// search transforms parent after parent, and the flow layout's seconds each
// (for 1.9% on the MASK32 record) belong to a person's `ergon optimize-ir`,
// not to the loop.
tl::expected<Optimised, std::string> OptimiseIr(const std::string& printed) {
  auto prog = dally::CompileIr(printed, dally::kMask32LineCap);
  if (!prog) return tl::unexpected("invalid IR: " + prog.error().Describe());
  dally::OptimizeStats st;
  dally::OptimizeOptions fast;
  fast.flow_max_ops = 0;
  Optimised o;
  o.ir = dally::OptimizeIr(*prog, &st, fast);
  o.cost_before = st.cost_before;
  o.cost_after = st.cost_after;
  return o;
}

tl::expected<std::string, std::string> OptimiseGenerator(const sandbox::Sandbox* sb, PrintedPrograms* memo,
                                                         const std::string& source) {
  auto printed = RunDallyGenerator(*sb, source, memo);
  if (!printed) return tl::unexpected(printed.error());
  auto optimised = OptimiseIr(*printed);
  if (!optimised) return tl::unexpected(optimised.error());
  const Optimised& st = *optimised;
  if (st.cost_after >= st.cost_before) return tl::unexpected(std::string("the layout is already optimal for this trace"));
  const std::string& ir = st.ir;
  // A generator that prints the optimised program, in raw-string chunks
  // (compilers cope better with many modest literals than one huge one).
  std::string out = fmt::format(
      "// ergon: layout-optimised IR of a parent generator (cost {} -> {}).\n"
      "// The offline agent's dally_parity transformation: dead code removed,\n"
      "// values placed by read density, addresses sorted by read count.\n"
      "#include <cstdio>\n\nstatic const char* const kChunks[] = {{\n",
      st.cost_before, st.cost_after);
  // The generator this came from, base64 so its KNOB comments stay inert:
  // the offline agent mutates the origin and transforms again.
  std::string origin;
  const std::string enc = base::Base64Encode(source);
  for (std::size_t i = 0; i < enc.size(); i += 76) origin += "// " + enc.substr(i, 76) + "\n";
  for (std::size_t pos = 0; pos < ir.size();) {
    std::size_t len = std::min<std::size_t>(60000, ir.size() - pos);
    while (pos + len < ir.size() && ir[pos + len - 1] != '\n') --len;
    out += "R\"IR(" + ir.substr(pos, len) + ")IR\",\n";
    pos += len;
  }
  out += "};\n\nint main() {\n  for (const char* c : kChunks) std::fputs(c, stdout);\n  return 0;\n}\n";
  out += std::string(kOriginBegin) + "\n" + origin + kOriginEnd + "\n";
  return out;
}

}  // namespace

std::optional<std::string> DallyOriginOf(const std::string& source) {
  auto b = source.find(kOriginBegin);
  auto e = source.find(kOriginEnd);
  if (b == std::string::npos || e == std::string::npos || e < b) return std::nullopt;
  std::string body = source.substr(b + std::strlen(kOriginBegin), e - b - std::strlen(kOriginBegin));
  std::string clean;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body.compare(i, 2, "//") == 0) { ++i; continue; }
    clean += body[i];
  }
  return base::Base64Decode(clean);
}

SourceTransform DallyLayoutTransform(const sandbox::Sandbox* sandbox, PrintedPrograms* memo) {
  if (!sandbox) return nullptr;
  // The offline agent transforms a good parent again and again: the result
  // (deterministic in the source) is made once. Sources are small, results
  // up to ~10 MB.
  auto made = std::make_shared<TextMemo<std::string>>(96u << 20);
  return [sandbox, memo, made](const std::string& source, std::uint64_t /*seed: deterministic*/) -> tl::expected<std::string, std::string> {
    if (auto seen = made->Find(source)) return *seen;
    auto out = OptimiseGenerator(sandbox, memo, source);
    if (out) made->Keep(source, *out);
    return out;
  };
}

}  // namespace ergon::evaluators
