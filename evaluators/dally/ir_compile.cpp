// IR text -> IrProgram, following SPEC.md §1-§8 line by line. Error wording
// follows the upstream scorer so results can be compared with its output.
#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <unordered_map>

#include <fmt/core.h>

#include "evaluators/dally/ir.h"

namespace ergon::evaluators::dally {
namespace {

__extension__ typedef unsigned __int128 u128;

bool IsSpace(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

std::string_view Strip(std::string_view s) {
  while (!s.empty() && IsSpace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && IsSpace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The bytes that can start a line break below: ';', \n \v \f \r, 0x1c-0x1e,
// and the lead bytes of U+0085 (0xC2) and U+2028/2029 (0xE2).
constexpr auto kMayBreak = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : {';', '\n', '\v', '\f', '\r', '\x1c', '\x1d', '\x1e'}) t[c] = true;
  t[0xC2] = t[0xE2] = true;
  return t;
}();

// Python's splitlines() after ';' -> '\n', keeping non-blank stripped
// lines, one at a time (no array of all lines: a 2M-line program would cost
// tens of MB and page faults for nothing).
class LineReader {
 public:
  explicit LineReader(std::string_view t) : t_(t) {}
  // The next non-blank stripped line, or false at the end.
  bool Next(std::string_view& line) {
    while (pos_ <= t_.size() && !done_) {
      std::size_t start = pos_, i = pos_, len = 0;
      for (; i < t_.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(t_[i]);
        if (!kMayBreak[c]) continue;  // most bytes (letters, digits, ' ', ','): one table load
        if (c == ';' || c == '\n' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e)) len = 1;
        else if (c == '\r') len = (i + 1 < t_.size() && t_[i + 1] == '\n') ? 2 : 1;
        else if (c == 0xC2 && i + 1 < t_.size() && static_cast<unsigned char>(t_[i + 1]) == 0x85) len = 2;  // U+0085
        else if (c == 0xE2 && i + 2 < t_.size() && static_cast<unsigned char>(t_[i + 1]) == 0x80 &&
                 (static_cast<unsigned char>(t_[i + 2]) == 0xA8 || static_cast<unsigned char>(t_[i + 2]) == 0xA9))
          len = 3;  // U+2028, U+2029
        if (len) break;
      }
      if (i >= t_.size()) done_ = true;
      pos_ = i + len;
      std::string_view l = Strip(t_.substr(start, i - start));
      if (!l.empty()) {
        line = l;
        return true;
      }
    }
    return false;
  }

 private:
  std::string_view t_;
  std::size_t pos_ = 0;
  bool done_ = false;
};

// Python repr() of a short ASCII-ish string, for error messages.
std::string Repr(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\\') out += "\\\\";
    else if (c == '\'') out += "\\'";
    else out += c;
  }
  return out + "'";
}

struct Int {
  bool negative = false;
  u128 magnitude = 0;      // saturates at 2^100, far beyond any valid value
  std::string_view digits; // for messages only (may hold '_')
  // Canonical decimal, as Python would print the value.
  std::string Text() const {
    std::string d;
    for (char c : digits)
      if (c != '_') d += c;
    auto nz = d.find_first_not_of('0');
    d = nz == std::string::npos ? "0" : d.substr(nz);
    return (negative ? "-" : "") + d;
  }
};

// Python int(s, 10): whitespace, sign, digits with single '_' between them.
bool ParseInt(std::string_view raw, Int& out) {
  std::string_view s = Strip(raw);
  out = Int{};
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    out.negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  bool prev_digit = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      if (out.magnitude < (u128(1) << 100)) out.magnitude = out.magnitude * 10 + static_cast<unsigned>(c - '0');
      prev_digit = true;
    } else if (c == '_' && prev_digit && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') {
      prev_digit = false;
    } else {
      return false;
    }
  }
  out.digits = s;
  if (out.magnitude == 0) out.negative = false;
  return true;
}

std::string BadInt(std::string_view operand) {
  return "invalid literal for int() with base 10: " + Repr(Strip(operand));
}

constexpr u128 kMaxAddr = ~std::uint64_t{0};
bool ValidAddr(const Int& v) { return !v.negative && v.magnitude >= 1 && v.magnitude <= kMaxAddr; }

// Comma-separated, stripped, empties dropped. Keeps up to 5 (more only
// matters as "wrong count"); `count` is the true number.
struct Operands {
  std::string_view item[5];
  std::size_t count = 0;
  std::size_t size() const { return count; }
  std::string_view operator[](std::size_t i) const { return item[i]; }
};

Operands SplitOperands(std::string_view s) {
  Operands out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ',') {
      std::string_view it = Strip(s.substr(start, i - start));
      if (!it.empty()) {
        if (out.count < 5) out.item[out.count] = it;
        ++out.count;
      }
      start = i + 1;
    }
  }
  return out;
}


struct OpInfo {
  std::string_view name;
  OpCode code;
};
constexpr OpInfo kOps[] = {{"set", OpCode::kSet}, {"copy", OpCode::kCopy}, {"not", OpCode::kNot},
                           {"abs", OpCode::kAbs}, {"add", OpCode::kAdd},   {"sub", OpCode::kSub},
                           {"mul", OpCode::kMul}, {"div", OpCode::kDiv},   {"and", OpCode::kAnd},
                           {"or", OpCode::kOr},   {"xor", OpCode::kXor},   {"cmp", OpCode::kCmp},
                           {"select", OpCode::kSelect}};

// The operands an instruction reads, in order (of its n operands v): the
// short form `op d,s` reads d first; cmp reads its second and third; set
// reads none. Returns how many.
template <class T>
std::size_t Sources(OpCode code, bool binary, std::size_t n, const T* v, const T** srcs) {
  std::size_t k = 0;
  if (binary && n == 2) { srcs[0] = &v[0]; srcs[1] = &v[1]; k = 2; }
  else if (code == OpCode::kCmp) { srcs[0] = &v[1]; srcs[1] = &v[2]; k = 2; }
  else if (code != OpCode::kSet) for (std::size_t i = 1; i < n; ++i) srcs[k++] = &v[i];
  return k;
}

}  // namespace

// Address -> slot, for initialised addresses. Small addresses (all real
// programs) go in a flat table; huge ones in a hash map.
class SlotMap {
 public:
  static constexpr std::uint64_t kFlat = 1 << 22;
  static constexpr std::uint32_t kNone = ~0u;
  // The slot of `a`, or kNone.
  std::uint32_t Find(std::uint64_t a) const {
    if (a < kFlat) return a < flat_.size() ? flat_[a] : kNone;
    auto it = big_.find(a);
    return it == big_.end() ? kNone : it->second;
  }
  // The slot of `a`, made if new; `fresh` tells which.
  std::uint32_t Insert(std::uint64_t a, bool& fresh) {
    std::uint32_t s = Find(a);
    fresh = s == kNone;
    if (!fresh) return s;
    s = size_++;
    addrs_.push_back(a);
    if (a < kFlat) {
      if (a >= flat_.size()) flat_.resize(std::max<std::size_t>(a + 1, flat_.size() * 2), kNone);
      flat_[a] = s;
    } else {
      big_.emplace(a, s);
    }
    return s;
  }
  std::uint32_t size() const { return size_; }
  std::vector<std::uint64_t>& addrs() { return addrs_; }

 private:
  std::vector<std::uint64_t> addrs_;  // slot -> address
  std::vector<std::uint32_t> flat_;
  std::unordered_map<std::uint64_t, std::uint32_t> big_;
  std::uint32_t size_ = 0;
};

std::string WithCommas(std::uint64_t n) {
  std::string s = std::to_string(n), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

namespace {

// Real programs read small addresses nearly always: those from a table.
constexpr auto kCostBelow4096 = [] {
  std::array<std::uint8_t, 4096> t{};
  for (std::uint32_t a = 0, r = 0; a < 4096; ++a) {
    while (r * r < a) ++r;  // r = ceil(sqrt(a))
    t[a] = static_cast<std::uint8_t>(a <= 1 ? 1 : r);
  }
  return t;
}();

}  // namespace

std::uint64_t ReadCost(std::uint64_t addr) {
  if (addr < kCostBelow4096.size()) return kCostBelow4096[addr];
  std::uint64_t x = addr - 1;
  // isqrt by Newton on integers, exact for the whole 64-bit range.
  // A double sqrt is within one of isqrt below 2^52; long double beyond.
  std::uint64_t r = x < (std::uint64_t{1} << 52) ? static_cast<std::uint64_t>(__builtin_sqrt(static_cast<double>(x)))
                                                 : static_cast<std::uint64_t>(__builtin_sqrtl(static_cast<long double>(x)));
  while (static_cast<u128>(r) * r > x) --r;
  while (static_cast<u128>(r + 1) * (r + 1) <= x) ++r;
  return r + 1;
}

std::string_view OpName(OpCode code) {
  for (const auto& o : kOps)
    if (o.code == code) return o.name;
  return "?";
}

std::string IrError::Describe() const {
  return line ? fmt::format("line {}: {}", line, message) : message;
}

// The general parser: every form SPEC.md allows, in two passes, with
// upstream's error for every malformed program.
static tl::expected<IrProgram, IrError> CompileGeneral(std::string_view text, std::size_t line_cap,
                                                       IrCostProfile* profile) {
  auto fail = [](int line, std::string msg) {
    return tl::unexpected(IrError{IrError::Kind::kCompile, line, std::move(msg)});
  };
  // Pass 1: count lines (the cap is checked before anything else) and find
  // the first and last.
  std::size_t nlines = 0;
  std::string_view first, last_line, cur;
  for (LineReader r(text); r.Next(cur);) {
    if (nlines == 0) first = cur;
    last_line = cur;
    ++nlines;
  }
  if (nlines > line_cap)
    return fail(0, fmt::format("IR exceeds maximum allowed length ({} instructions)", WithCommas(line_cap)));
  if (nlines < 2) return fail(0, "IR needs at least an input line and an output line");

  IrProgram p;
  p.lines = nlines;
  SlotMap slot;
  auto parse_list = [&](std::string_view l, int ln, std::vector<std::uint64_t>& out) -> tl::expected<void, IrError> {
    auto items = SplitOperands(l);
    std::vector<std::string_view> all;
    if (items.size() <= 5) all.assign(items.item, items.item + items.size());
    else {  // long address lists: split again without the cap
      std::size_t start = 0;
      for (std::size_t i = 0; i <= l.size(); ++i)
        if (i == l.size() || l[i] == ',') {
          std::string_view it = Strip(l.substr(start, i - start));
          if (!it.empty()) all.push_back(it);
          start = i + 1;
        }
    }
    for (std::string_view item : all) {
      Int v;
      if (!ParseInt(item, v)) return fail(ln, "malformed input/output line: " + BadInt(item));
      if (!ValidAddr(v)) return fail(ln, "malformed input/output line: invalid address " + v.Text());
      out.push_back(static_cast<std::uint64_t>(v.magnitude));
    }
    return {};
  };
  std::vector<std::uint64_t> in_addrs, out_addrs;
  const int last = static_cast<int>(nlines);
  if (auto r = parse_list(first, 1, in_addrs); !r) return tl::unexpected(r.error());
  if (auto r = parse_list(last_line, last, out_addrs); !r) return tl::unexpected(r.error());
  for (std::uint64_t a : in_addrs) {
    bool fresh = false;
    std::uint32_t sl = slot.Insert(a, fresh);
    if (!fresh) return fail(1, "input addresses must be distinct");
    p.input_slots.push_back(sl);
    p.input_addrs.push_back(a);
  }

  p.ops.reserve(nlines);
  LineReader body(text);
  body.Next(cur);  // the input line
  for (int ln = 2; ln < last; ++ln) {
    std::string_view line;
    body.Next(line);
    auto bad = [&](const std::string& why) { return fail(ln, "malformed instruction '" + std::string(line) + "': " + why); };
    auto sp = line.find(' ');
    std::string_view name = line.substr(0, sp);
    std::string_view rest = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    const OpInfo* info = nullptr;
    for (const auto& o : kOps)
      if (o.name.size() == name.size() && o.name[0] == name[0] && o.name == name) {
        info = &o;
        break;
      }
    if (!info) return bad("unknown op: " + Repr(name));
    auto ops = SplitOperands(rest);
    const OpCode code = info->code;
    const std::size_t n = ops.size();
    bool binary = code >= OpCode::kAdd && code <= OpCode::kXor;
    if (code == OpCode::kSet || code == OpCode::kCopy || code == OpCode::kNot || code == OpCode::kAbs) {
      if (n != 2) return bad("needs 2 operands");
    } else if (binary) {
      if (n != 2 && n != 3) return bad("needs 2 or 3 operands");
    } else if (n != 4) {
      return bad("needs 4 operands");
    }
    // Integers: every operand but cmp's predicate.
    std::size_t nints = code == OpCode::kCmp ? 3 : n;
    Int v[4];
    for (std::size_t i = 0; i < nints; ++i)
      if (!ParseInt(ops[i], v[i])) return bad(BadInt(ops[i]));
    Op op{};
    op.code = code;
    if (code == OpCode::kSet) {
      bool in_range = v[1].negative ? v[1].magnitude <= 128 : v[1].magnitude <= 255;
      if (!in_range) return bad("literal out of bounds");
      int k = v[1].negative ? -static_cast<int>(v[1].magnitude) : static_cast<int>(v[1].magnitude);
      op.imm = static_cast<std::int16_t>(static_cast<std::int8_t>(static_cast<std::uint8_t>(k & 0xff)));
    }
    if (code == OpCode::kCmp) {
      static constexpr std::string_view preds[] = {"eq", "ne", "lt", "le", "gt", "ge"};
      bool ok = false;
      for (int i = 0; i < 6; ++i)
        if (ops[3] == preds[i]) { op.pred = static_cast<Pred>(i); ok = true; }
      if (!ok) return bad("invalid predicate");
    }
    if (!ValidAddr(v[0])) return bad("invalid dest address " + v[0].Text());
    const Int* srcs[3];
    const std::size_t nsrc = Sources(code, binary, n, v, srcs);
    std::uint32_t s[3] = {0, 0, 0};
    for (std::size_t i = 0; i < nsrc; ++i) {
      const Int& a = *srcs[i];
      std::uint32_t sl = ValidAddr(a) ? slot.Find(static_cast<std::uint64_t>(a.magnitude)) : SlotMap::kNone;
      if (sl == SlotMap::kNone) return bad("uninitialized read: " + a.Text());
      s[i] = sl;
      const std::uint64_t rc = ReadCost(static_cast<std::uint64_t>(a.magnitude));
      p.cost += rc;
      if (profile) {
        profile->by_op[static_cast<int>(code)] += rc;
        profile->Read(static_cast<std::uint64_t>(a.magnitude));
      }
    }
    op.a = s[0];
    op.b = s[1];
    op.c = s[2];
    bool fresh = false;
    op.dst = slot.Insert(static_cast<std::uint64_t>(v[0].magnitude), fresh);
    p.ops.push_back(op);
  }
  for (std::uint64_t a : out_addrs) {
    std::uint32_t sl = slot.Find(a);
    if (sl == SlotMap::kNone) return fail(last, fmt::format("output addr {} never written", a));
    p.output_slots.push_back(sl);
    p.cost += ReadCost(a);
    if (profile) {
      profile->outputs += ReadCost(a);
      profile->Read(a);
    }
  }
  p.num_slots = static_cast<std::uint32_t>(slot.size());
  p.slot_addrs = std::move(slot.addrs());
  return p;
}

namespace {

// The canonical form every generator prints: lines split by '\n' only, each
// `name a,b[,c[,pred]]` with plain decimal operands (a '-' only on a set's
// literal), no other spaces. CompileCanonical reads such a program in one
// pass, a line at a time (the last line seen is held back: it may be the
// output line). Anything else, including every error, makes it give up, and
// the general parser reads the program from the start: so the result for any
// text is the general parser's, and only its speed differs.
class CanonicalLine {
 public:
  explicit CanonicalLine(std::string_view l) : l_(l) {}
  bool AtEnd() const { return i_ == l_.size(); }
  // [a-z]+ then one space.
  bool Name(std::string_view& name) {
    std::size_t j = i_;
    while (j < l_.size() && l_[j] >= 'a' && l_[j] <= 'z') ++j;
    if (j == i_ || j >= l_.size() || l_[j] != ' ') return false;
    name = l_.substr(i_, j - i_);
    i_ = j + 1;
    return true;
  }
  // Up to 18 digits (so no overflow), optionally after '-'; then ',' or the end.
  bool Number(std::uint64_t& v, bool& negative) {
    negative = i_ < l_.size() && l_[i_] == '-';
    if (negative) ++i_;
    std::size_t j = i_;
    v = 0;
    while (j < l_.size() && l_[j] >= '0' && l_[j] <= '9' && j - i_ < 18) v = v * 10 + static_cast<unsigned>(l_[j++] - '0');
    if (j == i_ || (j < l_.size() && l_[j] != ',')) return false;
    i_ = j < l_.size() ? j + 1 : j;
    return j == l_.size() || j + 1 < l_.size();  // no trailing ','
  }
  bool Word(std::string_view& w) {
    std::size_t j = i_;
    while (j < l_.size() && l_[j] >= 'a' && l_[j] <= 'z') ++j;
    if (j == i_ || j != l_.size()) return false;
    w = l_.substr(i_, j - i_);
    i_ = j;
    return true;
  }

 private:
  std::string_view l_;
  std::size_t i_ = 0;
};

// An op's name without a string compare per candidate name.
bool CanonicalOp(std::string_view n, OpCode& code) {
  auto is = [&n](const char* w) { return n[1] == w[1] && n[2] == w[2] && (n.size() == 3 || n[3] == w[3]); };
  if (n.size() == 3) {
    switch (n[0]) {
      case 's': if (is("set")) { code = OpCode::kSet; return true; }
                if (is("sub")) { code = OpCode::kSub; return true; }
                return false;
      case 'n': if (is("not")) { code = OpCode::kNot; return true; } return false;
      case 'a': if (is("abs")) { code = OpCode::kAbs; return true; }
                if (is("add")) { code = OpCode::kAdd; return true; }
                if (is("and")) { code = OpCode::kAnd; return true; }
                return false;
      case 'm': if (is("mul")) { code = OpCode::kMul; return true; } return false;
      case 'd': if (is("div")) { code = OpCode::kDiv; return true; } return false;
      case 'x': if (is("xor")) { code = OpCode::kXor; return true; } return false;
      case 'c': if (is("cmp")) { code = OpCode::kCmp; return true; } return false;
      default: return false;
    }
  }
  if (n == "copy") { code = OpCode::kCopy; return true; }
  if (n == "or") { code = OpCode::kOr; return true; }
  if (n == "select") { code = OpCode::kSelect; return true; }
  return false;
}

bool CanonicalList(std::string_view l, std::vector<std::uint64_t>& out) {
  CanonicalLine c(l);
  while (!c.AtEnd()) {
    std::uint64_t v;
    bool neg;
    if (!c.Number(v, neg) || neg || v == 0) return false;
    out.push_back(v);
  }
  return !out.empty();
}

std::optional<IrProgram> CompileCanonical(std::string_view text, std::size_t line_cap, IrCostProfile* profile) {
  IrProgram p;
  SlotMap slot;
  std::vector<std::uint64_t> in_addrs;
  std::string_view pending;  // the last line read and not yet taken as an instruction
  bool have_input = false, have_pending = false;
  std::size_t nlines = 0;
  // At most one op a line: reserving that (a newline count is a vector
  // loop) means the array never moves.
  p.ops.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  auto instruction = [&](std::string_view line) -> bool {
    CanonicalLine c(line);
    std::string_view name;
    if (!c.Name(name)) return false;
    OpCode code;
    if (!CanonicalOp(name, code)) return false;
    const bool binary = code >= OpCode::kAdd && code <= OpCode::kXor;
    const std::size_t nints = code == OpCode::kCmp ? 3 : (code == OpCode::kSelect ? 4 : (binary ? 3 : 2));
    std::uint64_t v[4] = {0, 0, 0, 0};
    bool neg[4] = {false, false, false, false};
    std::size_t n = 0;
    for (; n < nints && !c.AtEnd(); ++n)
      if (!c.Number(v[n], neg[n])) return false;
    Op op{};
    op.code = code;
    if (code == OpCode::kCmp) {
      std::string_view w;
      if (n != 3 || !c.Word(w)) return false;
      static constexpr std::string_view preds[] = {"eq", "ne", "lt", "le", "gt", "ge"};
      bool ok = false;
      for (int i = 0; i < 6; ++i)
        if (w == preds[i]) { op.pred = static_cast<Pred>(i); ok = true; }
      if (!ok) return false;
    }
    if (!c.AtEnd()) return false;
    if (binary ? (n != 2 && n != 3) : n != nints) return false;
    for (std::size_t i = 0; i < n; ++i)
      if (neg[i] && !(code == OpCode::kSet && i == 1)) return false;
    if (v[0] == 0 || v[0] >= (std::uint64_t{1} << 32)) return false;
    if (code == OpCode::kSet) {
      if (neg[1] ? v[1] > 128 : v[1] > 255) return false;
      const int k = neg[1] ? -static_cast<int>(v[1]) : static_cast<int>(v[1]);
      op.imm = static_cast<std::int16_t>(static_cast<std::int8_t>(static_cast<std::uint8_t>(k & 0xff)));
    }
    const std::uint64_t* srcs[3];
    const std::size_t nsrc = Sources(code, binary, n, v, srcs);
    std::uint32_t s[3] = {0, 0, 0};
    for (std::size_t i = 0; i < nsrc; ++i) {
      const std::uint64_t a = *srcs[i];
      if (a == 0 || a >= (std::uint64_t{1} << 32)) return false;
      const std::uint32_t sl = slot.Find(a);
      if (sl == SlotMap::kNone) return false;
      s[i] = sl;
      const std::uint64_t rc = ReadCost(a);
      p.cost += rc;
      if (profile) {
        profile->by_op[static_cast<int>(code)] += rc;
        profile->Read(a);
      }
    }
    op.a = s[0];
    op.b = s[1];
    op.c = s[2];
    bool fresh = false;
    op.dst = slot.Insert(v[0], fresh);
    p.ops.push_back(op);
    return true;
  };
  for (std::size_t pos = 0; pos < text.size();) {
    const void* nl = std::memchr(text.data() + pos, '\n', text.size() - pos);
    const std::size_t end = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - text.data()) : text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    if (++nlines > line_cap) return std::nullopt;
    if (!have_input) {
      if (!CanonicalList(line, in_addrs)) return std::nullopt;
      for (std::uint64_t a : in_addrs) {
        if (a >= (std::uint64_t{1} << 32)) return std::nullopt;
        bool fresh = false;
        const std::uint32_t sl = slot.Insert(a, fresh);
        if (!fresh) return std::nullopt;
        p.input_slots.push_back(sl);
      }
      p.input_addrs = in_addrs;
      have_input = true;
      continue;
    }
    if (have_pending && !instruction(pending)) return std::nullopt;
    pending = line;
    have_pending = true;
  }
  if (!have_pending) return std::nullopt;
  std::vector<std::uint64_t> out_addrs;
  if (!CanonicalList(pending, out_addrs)) return std::nullopt;
  for (std::uint64_t a : out_addrs) {
    if (a >= (std::uint64_t{1} << 32)) return std::nullopt;
    const std::uint32_t sl = slot.Find(a);
    if (sl == SlotMap::kNone) return std::nullopt;
    p.output_slots.push_back(sl);
    p.cost += ReadCost(a);
    if (profile) {
      profile->outputs += ReadCost(a);
      profile->Read(a);
    }
  }
  p.lines = nlines;
  p.num_slots = static_cast<std::uint32_t>(slot.size());
  p.slot_addrs = std::move(slot.addrs());
  return p;
}

}  // namespace

tl::expected<IrProgram, IrError> CompileIr(std::string_view text, std::size_t line_cap, IrCostProfile* profile) {
  if (auto p = CompileCanonical(text, line_cap, profile)) return std::move(*p);
  if (profile) *profile = IrCostProfile{};
  return CompileGeneral(text, line_cap, profile);
}

}  // namespace ergon::evaluators::dally
