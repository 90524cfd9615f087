#include "evaluators/dally_parity_transform.h"

#include <cstring>
#include <optional>

#include <fmt/core.h>

#include "evaluators/dally/ir.h"
#include "evaluators/dally/optimize.h"
#include "evaluators/dally_parity_task.h"
#include "sandbox/sandbox.h"

namespace ergon::evaluators {
namespace {

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(const std::string& in) {
  std::string out;
  int val = 0, bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out += kB64[(val >> bits) & 0x3F];
      bits -= 6;
    }
  }
  if (bits > -6) out += kB64[((val << 8) >> (bits + 8)) & 0x3F];
  while (out.size() % 4) out += '=';
  return out;
}

std::string Unbase64(const std::string& in) {
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    const char* p = std::strchr(kB64, c);
    if (!p || !*p) continue;  // '=', newlines, anything else
    val = (val << 6) + static_cast<int>(p - kB64);
    bits += 6;
    if (bits >= 0) {
      out += static_cast<char>((val >> bits) & 0xFF);
      bits -= 8;
    }
  }
  return out;
}

constexpr const char* kOriginBegin = "// ergon-origin-base64-begin";
constexpr const char* kOriginEnd = "// ergon-origin-base64-end";

tl::expected<std::string, std::string> OptimiseGenerator(const sandbox::Sandbox* sb, const std::string& source) {
  auto printed = RunDallyGenerator(*sb, source);
  if (!printed) return tl::unexpected(printed.error());
  auto prog = evaluators::dally::CompileIr(*printed, evaluators::dally::kMask32LineCap);
  if (!prog) return tl::unexpected("invalid IR: " + prog.error().Describe());
  evaluators::dally::OptimizeStats st;
  const std::string ir = evaluators::dally::OptimizeIr(*prog, &st);
  if (st.cost_after >= st.cost_before) return tl::unexpected(std::string("the layout is already optimal for this trace"));
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
  const std::string enc = Base64(source);
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
  return Unbase64(clean);
}

SourceTransform DallyLayoutTransform(const sandbox::Sandbox* sandbox) {
  if (!sandbox) return nullptr;
  return [sandbox](const std::string& source) { return OptimiseGenerator(sandbox, source); };
}

}  // namespace ergon::evaluators
