#include "genome/genome.h"

#include "base/digest.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/core.h>

#include "genome/text.h"

namespace ergon::genome {
namespace {

using internal::SplitLines;

constexpr std::string_view kStart = "EVOLVE-BLOCK-START";
constexpr std::string_view kEnd = "EVOLVE-BLOCK-END";

bool ParseNumber(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

bool IsIdent(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

// Positions in `code` where `literal` stands as a whole numeric token
// (a C++ suffix such as f, u or l may follow).
std::vector<std::size_t> FindLiteral(const std::string& code, const std::string& literal) {
  std::vector<std::size_t> hits;
  for (std::size_t pos = code.find(literal); pos != std::string::npos; pos = code.find(literal, pos + 1)) {
    if (pos > 0) {
      char b = code[pos - 1];
      if (std::isalnum(static_cast<unsigned char>(b)) || b == '_' || b == '.') continue;
    }
    std::size_t e = pos + literal.size();
    if (e < code.size()) {
      char a = code[e];
      bool suffix = a == 'f' || a == 'F' || a == 'u' || a == 'U' || a == 'l' || a == 'L';
      if (!suffix && (std::isalnum(static_cast<unsigned char>(a)) || a == '_' || a == '.')) continue;
      if (suffix && e + 1 < code.size() && (std::isalnum(static_cast<unsigned char>(code[e + 1])) || code[e + 1] == '_')) continue;
    }
    hits.push_back(pos);
  }
  return hits;
}

struct KnobSyntax {
  Knob knob;
  std::string value_text;
};

// Parses the text after "KNOB": `name value range lo hi [log] [int]`.
Result<KnobSyntax> ParseKnobComment(const std::string& rest, int line) {
  std::vector<std::string> tok;
  for (std::size_t i = 0; i < rest.size();) {
    while (i < rest.size() && std::isspace(static_cast<unsigned char>(rest[i]))) ++i;
    std::size_t j = i;
    while (j < rest.size() && !std::isspace(static_cast<unsigned char>(rest[j]))) ++j;
    if (j > i) tok.push_back(rest.substr(i, j - i));
    i = j;
  }
  auto err = [line](const std::string& why) {
    return tl::unexpected(fmt::format("line {}: malformed KNOB ({}); expected "
                                      "`// KNOB name value range lo hi [log] [int] [down]`", line, why));
  };
  if (tok.size() < 5) return err("too few fields");
  KnobSyntax ks;
  Knob& k = ks.knob;
  k.name = tok[0];
  if (!IsIdent(k.name)) return err("name '" + k.name + "' is not an identifier");
  ks.value_text = tok[1];
  if (!ParseNumber(tok[1], k.value)) return err("value '" + tok[1] + "' is not a number");
  if (tok[2] != "range") return err("missing 'range'");
  if (!ParseNumber(tok[3], k.lo) || !ParseNumber(tok[4], k.hi)) return err("bounds are not numbers");
  for (std::size_t i = 5; i < tok.size(); ++i) {
    if (tok[i] == "log") k.log_scale = true;
    else if (tok[i] == "int") k.integer = true;
    else if (tok[i] == "down") k.prefer_lower = true;
    else return err("unknown flag '" + tok[i] + "'");
  }
  if (!(k.lo < k.hi)) return err("lo must be below hi");
  if (k.value < k.lo || k.value > k.hi) return err("value outside its range");
  if (k.log_scale && k.lo <= 0) return err("log scale needs lo > 0");
  if (k.integer && (k.value != std::floor(k.value) || k.lo != std::floor(k.lo) || k.hi != std::floor(k.hi)))
    return err("int knob with a fractional number");
  k.comment_line = line;
  return ks;
}

}  // namespace

std::string FormatKnobValue(double value, bool integer) {
  if (integer) return fmt::format("{}", static_cast<long long>(std::llround(value)));
  std::string s = fmt::format("{}", value);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

namespace {

// The numeric literals standing as whole tokens in `code` (text as written,
// without a C++ suffix).
std::vector<std::string> NumericLiterals(const std::string& code) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < code.size();) {
    const auto c = static_cast<unsigned char>(code[i]);
    const bool starts = std::isdigit(c) || (code[i] == '.' && i + 1 < code.size() &&
                                            std::isdigit(static_cast<unsigned char>(code[i + 1])));
    const bool glued = i > 0 && (std::isalnum(static_cast<unsigned char>(code[i - 1])) || code[i - 1] == '_' ||
                                 code[i - 1] == '.');
    if (!starts || glued) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < code.size()) {
      const char d = code[j];
      if (std::isdigit(static_cast<unsigned char>(d)) || d == '.' || d == '\'') ++j;
      else if ((d == 'e' || d == 'E') && j + 1 < code.size()) {
        ++j;
        if (code[j] == '+' || code[j] == '-') ++j;
      } else break;
    }
    std::string lit = code.substr(i, j - i);
    while (j < code.size() && std::isalpha(static_cast<unsigned char>(code[j]))) ++j;  // 1.5f, 10u, 0x...
    out.push_back(lit);
    i = j;
  }
  return out;
}

}  // namespace

std::string FollowKnobLiterals(const std::string& source) {
  auto lines = SplitLines(internal::NormaliseNewlines(source));
  bool changed = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const auto slash = line.find("//");
    if (slash == std::string::npos) continue;
    const auto kpos = line.find("KNOB", slash);
    if (kpos == std::string::npos || internal::Trim(std::string_view(line).substr(slash + 2, kpos - slash - 2)) != "")
      continue;
    auto ks = ParseKnobComment(line.substr(kpos + 4), static_cast<int>(i) + 1);
    if (!ks) continue;
    std::size_t code_idx = i;
    std::string code(line.substr(0, slash));
    if (internal::Trim(code).empty()) {
      code_idx = i + 1;
      while (code_idx < lines.size() && internal::Trim(lines[code_idx]).empty()) ++code_idx;
      if (code_idx >= lines.size()) continue;
      const auto s2 = lines[code_idx].find("//");
      code = s2 == std::string::npos ? lines[code_idx] : lines[code_idx].substr(0, s2);
    }
    if (FindLiteral(code, ks->value_text).size() == 1) continue;
    const auto lits = NumericLiterals(code);
    double v = 0;
    if (lits.size() != 1 || !ParseNumber(lits[0], v)) continue;
    const Knob& k = ks->knob;
    if ((k.integer && v != std::floor(v)) || (k.log_scale && v <= 0)) continue;
    // Where the comment's fields (name value range lo hi) start and end:
    // what is not rewritten (the flags, the bounds' spelling) stays as written.
    std::size_t start[5], end[5], at = kpos + 4;
    for (int f = 0; f < 5; ++f) {
      start[f] = line.find_first_not_of(" \t", at);
      end[f] = at = std::min(line.find_first_of(" \t", start[f]), line.size());
    }
    if (v < k.lo || v > k.hi)
      lines[i] = line.substr(0, start[1]) + lits[0] + line.substr(end[1], start[3] - end[1]) +
                 FormatKnobValue(std::min(k.lo, v), k.integer) + " " + FormatKnobValue(std::max(k.hi, v), k.integer) +
                 line.substr(end[4]);
    else
      lines[i] = line.substr(0, start[1]) + lits[0] + line.substr(end[1]);
    changed = true;
  }
  return changed ? internal::JoinLines(lines) : source;
}

namespace {

// The lines of a text that hold a marker or a comment, in order, each with
// its 0-based number, found by searching for "//" and "EVOLVE-BLOCK" (a
// generated source is megabytes of lines with neither).
class MarkedLines {
 public:
  explicit MarkedLines(std::string_view text)
      : text_(text), slash_(text.find("//")), evo_(text.find("EVOLVE-BLOCK")) {}
  // Moves to the next such line; false at the end.
  bool Next() {
    if (slash_ < pos_) slash_ = text_.find("//", pos_);
    if (evo_ < pos_) evo_ = text_.find("EVOLVE-BLOCK", pos_);
    const std::size_t hit = std::min(slash_, evo_);
    if (hit == std::string_view::npos) return false;
    const std::size_t nl_before = text_.rfind('\n', hit);
    const std::size_t begin = nl_before == std::string_view::npos || nl_before < pos_ ? pos_ : nl_before + 1;
    number_ = pos_number_ + static_cast<std::size_t>(std::count(text_.begin() + pos_, text_.begin() + begin, '\n'));
    const std::size_t nl = text_.find('\n', hit);
    const std::size_t end = nl == std::string_view::npos ? text_.size() : nl;
    line_ = text_.substr(begin, end - begin);
    pos_ = end + 1;
    pos_number_ = number_ + 1;
    return true;
  }
  std::string_view line() const { return line_; }
  std::size_t number() const { return number_; }
  // The first line after this one that is not blank, with its number.
  std::optional<std::pair<std::string_view, std::size_t>> NextNonBlank() const {
    for (std::size_t at = pos_, n = pos_number_; at < text_.size(); ++n) {
      const std::size_t nl = text_.find('\n', at);
      const std::size_t end = nl == std::string_view::npos ? text_.size() : nl;
      const std::string_view l = text_.substr(at, end - at);
      if (!internal::TrimView(l).empty()) return std::make_pair(l, n);
      at = end + 1;
    }
    return std::nullopt;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;         // where the line after the current one starts
  std::size_t pos_number_ = 0;  // and its number
  std::size_t slash_, evo_;     // the next "//" and "EVOLVE-BLOCK" at or after pos_, or npos
  std::string_view line_;
  std::size_t number_ = 0;
};

}  // namespace

Result<Genome> Genome::Parse(std::string source) {
  Genome g;
  // Taken as it is when there is nothing to normalise (sources can be megabytes).
  g.source_ = source.find('\r') == std::string::npos ? std::move(source) : internal::NormaliseNewlines(source);
  int open = 0;
  std::map<std::string, int> seen;
  MarkedLines marked(g.source_);
  while (marked.Next()) {
    const int ln = static_cast<int>(marked.number()) + 1;
    const std::string_view line = marked.line();
    auto evo = line.find("EVOLVE-BLOCK");
    if (evo != std::string_view::npos) {
      std::string marker = internal::Trim(line.substr(evo));
      if (marker == kStart) {
        if (open) return tl::unexpected(fmt::format("line {}: EVOLVE-BLOCK-START inside the block opened at line {}", ln, open));
        open = ln;
      } else if (marker == kEnd) {
        if (!open) return tl::unexpected(fmt::format("line {}: EVOLVE-BLOCK-END without START", ln));
        g.blocks_.push_back({open, ln});
        open = 0;
      } else {
        return tl::unexpected(fmt::format("line {}: unknown marker '{}' (expected EVOLVE-BLOCK-START or EVOLVE-BLOCK-END)", ln, marker));
      }
      continue;
    }
    auto slash = line.find("//");
    if (slash == std::string_view::npos) continue;
    std::string comment = internal::Trim(line.substr(slash + 2));
    if (comment.rfind("KNOB", 0) != 0 || (comment.size() > 4 && !std::isspace(static_cast<unsigned char>(comment[4]))))
      continue;
    auto ks = ParseKnobComment(comment.substr(4), ln);
    if (!ks) return tl::unexpected(ks.error());
    Knob k = ks->knob;
    if (auto it = seen.find(k.name); it != seen.end())
      return tl::unexpected(fmt::format("line {}: knob '{}' already declared at line {}", ln, k.name, it->second));
    seen[k.name] = ln;
    // Which line holds the literal: this one's code, else the next non-blank.
    std::size_t code_idx = marked.number();
    std::string code(line.substr(0, slash));
    if (internal::Trim(code).empty()) {
      const auto next = marked.NextNonBlank();
      if (!next) return tl::unexpected(fmt::format("line {}: knob '{}' has no code line after it", ln, k.name));
      code_idx = next->second;
      auto s2 = next->first.find("//");
      code = std::string(s2 == std::string_view::npos ? next->first : next->first.substr(0, s2));
    }
    auto hits = FindLiteral(code, ks->value_text);
    if (hits.size() != 1)
      return tl::unexpected(fmt::format("line {}: knob '{}': the value {} must appear exactly once as a literal in "
                                        "the code of line {} (found {})", ln, k.name, ks->value_text, code_idx + 1, hits.size()));
    k.code_line = static_cast<int>(code_idx) + 1;
    g.knobs_.push_back(k);
  }
  if (open) return tl::unexpected(fmt::format("line {}: EVOLVE-BLOCK-START never closed", open));
  return g;
}

const Knob* Genome::FindKnob(const std::string& name) const {
  for (const auto& k : knobs_)
    if (k.name == name) return &k;
  return nullptr;
}

std::vector<std::string> Genome::FrozenParts() const {
  const auto lines = SplitLines(source_);
  std::vector<std::string> parts(1);
  std::size_t b = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const int ln = static_cast<int>(i) + 1;
    bool inside = b < blocks_.size() && ln > blocks_[b].start_line && ln < blocks_[b].end_line;
    if (inside) continue;
    parts.back() += lines[i] + "\n";
    if (b < blocks_.size() && ln == blocks_[b].start_line) parts.emplace_back();
    if (b < blocks_.size() && ln == blocks_[b].end_line) ++b;
  }
  return parts;
}

Result<Genome> Genome::WithKnob(const std::string& name, double value) const {
  const Knob* k = FindKnob(name);
  if (!k) return tl::unexpected(fmt::format("no knob named '{}'", name));
  if (!std::isfinite(value) || value < k->lo || value > k->hi)
    return tl::unexpected(fmt::format("knob '{}': {} is outside [{}, {}]", name, value, k->lo, k->hi));
  if (k->integer && value != std::floor(value))
    return tl::unexpected(fmt::format("knob '{}' is an integer knob; got {}", name, value));
  auto lines = SplitLines(source_);
  std::string& cline = lines[static_cast<std::size_t>(k->comment_line - 1)];
  std::string& code = lines[static_cast<std::size_t>(k->code_line - 1)];
  // The literal as written in the comment is what the code holds.
  std::string comment_rest = cline.substr(cline.find("//"));
  auto kpos = comment_rest.find("KNOB");
  auto name_pos = comment_rest.find(name, kpos);
  auto val_start = comment_rest.find_first_not_of(" \t", name_pos + name.size());
  auto val_end = comment_rest.find_first_of(" \t", val_start);
  std::string old_text = comment_rest.substr(val_start, val_end - val_start);
  std::string new_text = FormatKnobValue(value, k->integer);

  auto slash = code.find("//");
  std::string code_part = slash == std::string::npos ? code : code.substr(0, slash);
  auto hits = FindLiteral(code_part, old_text);
  if (hits.size() != 1) return tl::unexpected(fmt::format("knob '{}': literal {} not found once on line {}", name, old_text, k->code_line));
  code.replace(hits[0], old_text.size(), new_text);
  // Same line: the comment moved by the replacement; find it again.
  std::string& cl = lines[static_cast<std::size_t>(k->comment_line - 1)];
  std::size_t cstart = cl.find("//");
  if (k->code_line == k->comment_line) {
    // The literal sits before the comment, so find "//" after it.
    cstart = cl.find("//", hits[0] + new_text.size());
  }
  std::size_t vpos = cl.find(name, cl.find("KNOB", cstart));
  vpos = cl.find_first_not_of(" \t", vpos + name.size());
  cl.replace(vpos, old_text.size(), new_text);
  return Parse(internal::JoinLines(lines));
}

const std::string& Genome::Hash() const {
  if (hash_.empty()) hash_ = ContentHash(source_);
  return hash_;
}

std::string ContentHash(const std::string& source) {
  // Lines with their trailing blanks cut, each ended by '\n', trailing empty
  // lines dropped: built in one pass (no copy of each line; no copy of the
  // source unless it has a '\r' to normalise).
  const std::string normalised =
      source.find('\r') == std::string::npos ? std::string() : internal::NormaliseNewlines(source);
  const std::string_view text = normalised.empty() ? std::string_view(source) : std::string_view(normalised);
  std::string out;
  out.reserve(text.size() + 1);
  std::size_t keep = 0;  // out's length through its last non-empty line
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t nl = text.find('\n', at);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(at, end - at);
    const auto e = line.find_last_not_of(" \t\v\f");
    line = line.substr(0, e == std::string_view::npos ? 0 : e + 1);
    out.append(line);
    out += '\n';
    if (!line.empty()) keep = out.size();
    at = end + 1;
  }
  out.resize(keep);
  return base::Sha256Hex(out);
}

}  // namespace ergon::genome
