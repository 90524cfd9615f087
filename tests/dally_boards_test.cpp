// The Dally boards beyond sparse parity: the matmul and symmetry checkers
// against the group's published programs (tests/data/dally/matmul and
// symmetry, see SOURCE.md), every refusal with its line, the checker against
// an exact symbolic oracle, and the flow layout against brute force and the
// figures measured on the records.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "evaluators/dally/ir.h"
#include "evaluators/dally/isa.h"
#include "evaluators/dally/layout_flow.h"
#include "evaluators/dally/matmul.h"
#include "evaluators/dally/optimize.h"
#include "evaluators/dally/placed_anneal.h"
#include "evaluators/dally/reschedule.h"
#include "evaluators/dally/symmetry.h"

using namespace ergon::evaluators::dally;
namespace fs = std::filesystem;

namespace {

std::string Slurp(const std::string& name) {
  const fs::path p = fs::path(ERGON_DALLY_DATA) / name;
  std::ifstream f(p, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), p.string());
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

IrProgram Compile(const std::string& text) {
  auto p = CompileIr(text, kMask32LineCap);
  REQUIRE_MESSAGE(p.has_value(), (p ? "" : p.error().Describe()));
  return *p;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// The same program with every address renamed by a random bijection onto
// [1, range]: the same function, a worse layout.
std::string Scramble(const std::string& text, std::uint64_t range, std::uint64_t seed) {
  std::vector<std::uint64_t> target(range);
  std::iota(target.begin(), target.end(), 1);
  std::mt19937_64 rng(seed);
  std::shuffle(target.begin(), target.end(), rng);
  std::map<std::uint64_t, std::uint64_t> rename;
  auto map = [&](std::uint64_t a) {
    auto [it, fresh] = rename.emplace(a, 0);
    if (fresh) it->second = target[rename.size() - 1];
    return it->second;
  };
  std::string out;
  for (const std::string& line : Lines(text)) {
    std::string name, rest = line;
    if (auto sp = line.find(' '); sp != std::string::npos) {
      name = line.substr(0, sp + 1);
      rest = line.substr(sp + 1);
    }
    std::string mapped;
    std::istringstream items(rest);
    for (std::string item; std::getline(items, item, ',');)
      mapped += (mapped.empty() ? "" : ",") + std::to_string(map(std::stoull(item)));
    out += name + mapped + "\n";
  }
  return out;
}

// An exact oracle for matmul, independent of the checker: each value a
// polynomial with integer coefficients, monomials as (i, j) with i <= j
// (-1 for a linear term's missing factor), checked to the letter.
using Poly = std::map<std::pair<int, int>, long long>;
enum class Verdict { kExact, kWrong, kDegree };

Verdict OracleMatmul(const IrProgram& p, int n) {
  std::vector<Poly> v(p.num_slots);
  for (std::size_t i = 0; i < p.input_slots.size(); ++i) v[p.input_slots[i]] = Poly{{{-1, static_cast<int>(i)}, 1}};
  auto degree = [](const Poly& q) {
    int d = 0;
    for (const auto& [m, c] : q)
      if (c) d = std::max(d, m.first < 0 ? 1 : 2);
    return d;
  };
  auto clean = [](Poly q) {
    for (auto it = q.begin(); it != q.end();) it = it->second ? std::next(it) : q.erase(it);
    return q;
  };
  for (const Op& op : p.ops) {
    const Poly a = v[op.a], b = v[op.b];
    Poly r;
    if (op.code == OpCode::kCopy) r = a;
    if (op.code == OpCode::kAdd || op.code == OpCode::kSub) {
      r = a;
      for (const auto& [m, c] : b) r[m] += op.code == OpCode::kAdd ? c : -c;
    }
    if (op.code == OpCode::kMul) {
      if (degree(a) + degree(b) > 2) return Verdict::kDegree;
      for (const auto& [ma, ca] : a)
        for (const auto& [mb, cb] : b) {
          const int x = ma.second, y = mb.second;  // both linear here
          r[{std::min(x, y), std::max(x, y)}] += ca * cb;
        }
    }
    v[op.dst] = clean(r);
  }
  const int nn = n * n;
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < n; ++k) {
      Poly want;
      for (int m = 0; m < n; ++m) {
        const int x = i * n + m, y = nn + m * n + k;
        want[{std::min(x, y), std::max(x, y)}] += 1;
      }
      if (v[p.output_slots[static_cast<std::size_t>(i * n + k)]] != want) return Verdict::kWrong;
    }
  return Verdict::kExact;
}


// A random straight-line v3 program over 4 input bits at scattered
// addresses: `length` ops from add .. cmp (and select when asked); the
// outputs are the last two values written (and, with a third, input 3).
std::string RandomProgram(std::mt19937_64& rng, int length, bool with_select, bool third_output) {
  static const char* const ops[] = {"add", "sub", "xor", "and", "or", "mul", "copy", "cmp", "select"};
  std::vector<std::uint64_t> defined = {3, 17, 30, 41};
  std::string ir = "3,17,30,41\n";
  for (int i = 0; i < length; ++i) {
    const std::string op = ops[rng() % (with_select ? 9 : 8)];
    auto any = [&] { return std::to_string(defined[rng() % defined.size()]); };
    const std::uint64_t dst = 1 + rng() % 60;
    if (op == "copy") ir += "copy " + std::to_string(dst) + "," + any() + "\n";
    else if (op == "cmp") ir += "cmp " + std::to_string(dst) + "," + any() + "," + any() + ",lt\n";
    else if (op == "select") ir += "select " + std::to_string(dst) + "," + any() + "," + any() + "," + any() + "\n";
    else ir += op + " " + std::to_string(dst) + "," + any() + "," + any() + "\n";
    if (std::find(defined.begin(), defined.end(), dst) == defined.end()) defined.push_back(dst);
  }
  ir += std::to_string(defined[defined.size() - 1]) + "," + std::to_string(defined[defined.size() - 2]) +
        (third_output ? "," + std::to_string(defined[0]) : std::string()) + "\n";
  return ir;
}
}  // namespace

TEST_CASE("the published matmul and symmetry programs score their published costs" * doctest::test_suite("fast")) {
  const auto m4 = MatmulChecker(4).Check(Compile(Slurp("matmul/best_667.ir")));
  REQUIRE_MESSAGE(m4.has_value(), (m4 ? "" : m4.error().Describe()));
  CHECK(m4->cost == 667);
  const auto m16 = MatmulChecker(16).Check(Compile(Slurp("matmul/best_63290.ir")));
  REQUIRE_MESSAGE(m16.has_value(), (m16 ? "" : m16.error().Describe()));
  CHECK(m16->cost == 63290);
  // The breakdown measured on the record (matmul SPEC.md).
  CHECK(m16->muls == 4096);
  CHECK(m16->adds == 3840);
  CHECK(m16->copies == 2122);
  const auto s6 = CheckSymmetry(Compile(Slurp("symmetry/baseline_six.ir")), 6);
  REQUIRE_MESSAGE(s6.has_value(), (s6 ? "" : s6.error().Describe()));
  CHECK(s6->cost == 20);
  CHECK(s6->patterns == 64);
  const auto s8 = CheckSymmetry(Compile(Slurp("symmetry/baseline_eight.ir")), 8);
  REQUIRE_MESSAGE(s8.has_value(), (s8 ? "" : s8.error().Describe()));
  CHECK(s8->cost == 29);
}

TEST_CASE("matmul refusals name the line and the fault" * doctest::test_suite("fast")) {
  const MatmulChecker check(4, 7);
  auto lines = Lines(Slurp("matmul/best_667.ir"));
  const int last = static_cast<int>(lines.size());

  SUBCASE("swapped outputs say which entry each holds") {
    auto out = Lines(Slurp("matmul/best_667.ir"));
    std::vector<std::string> addr;
    std::istringstream items(out.back());
    for (std::string a; std::getline(items, a, ',');) addr.push_back(a);
    std::swap(addr[1], addr[2]);
    out.back().clear();
    for (std::size_t i = 0; i < addr.size(); ++i) out.back() += (i ? "," : "") + addr[i];
    auto r = check.Check(Compile(Join(out)));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().line == last);
    CHECK(r.error().Describe() == fmt::format("line {}: output 2 is not C[0][1] = sum over m of A[0][m] B[m][1] (it holds C[0][2])", last));
  }
  SUBCASE("a degree-3 product") {
    auto r = MatmulChecker(1).Check(Compile("1,2\nmul 3,1,2\nmul 4,3,1\nsub 4,4,4\nadd 3,3,4\n3\n"));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().Describe() == "line 3: mul of a degree-2 and a degree-1 value makes degree 3; matmul allows at most 2");
    // In the record: an output entry (degree 2) times itself, kept nowhere.
    auto bad = lines;
    const std::string first_out = bad.back().substr(0, bad.back().find(','));
    bad.insert(bad.end() - 1, "mul 999," + first_out + "," + first_out);
    r = check.Check(Compile(Join(bad)));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().line == last);  // the inserted line sits where the output line was
    CHECK(r.error().message == "mul of a degree-2 and a degree-2 value makes degree 4; matmul allows at most 2");
  }
  SUBCASE("a read of an address never written") {
    auto bad = lines;
    bad.insert(bad.begin() + 3, "add 40,1,777");
    auto r = CompileIr(Join(bad), kMask32LineCap);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().line == 4);
    CHECK(r.error().message.find("uninitialized read: 777") != std::string::npos);
  }
  SUBCASE("an op outside v0") {
    auto bad = lines;
    bad.insert(bad.begin() + 5, "xor 40,1,2");
    auto r = check.Check(Compile(Join(bad)));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().Describe() == "line 6: op 'xor' is not in instruction set v0 (copy, add, sub, mul)");
    bad[5] = "set 40,3";
    r = check.Check(Compile(Join(bad)));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().Describe() == "line 6: op 'set' is not in instruction set v0 (copy, add, sub, mul)");
  }
  SUBCASE("the wrong number of inputs or outputs") {
    auto r = MatmulChecker(16).Check(Compile(Slurp("matmul/best_667.ir")));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().Describe() == "line 1: IR declares 32 inputs; matmul 16x16 needs 512 (A then B, row-major)");
    auto bad = lines;
    bad.back() = bad.back().substr(0, bad.back().rfind(','));
    r = check.Check(Compile(Join(bad)));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().Describe() == fmt::format("line {}: IR produces 15 outputs; matmul 4x4 needs 16 (C row-major)", last));
  }
}

TEST_CASE("matmul: a wrong term hidden behind a huge coefficient is still found" * doctest::test_suite("fast")) {
  // C = A B for 1x1, plus 2^k * a * b: right modulo any prime dividing 2^k,
  // wrong over the integers. Doublings make the coefficient; whatever k,
  // the checker's secret prime does not divide it.
  for (int k : {61, 62, 64, 100, 200}) {
    std::string ir = "1,2\nmul 3,1,2\ncopy 4,3\n";
    for (int i = 0; i < k; ++i) ir += "add 4,4,4\n";
    ir += "add 5,3,4\n5\n";
    auto r = MatmulChecker(1).Check(Compile(ir));
    CHECK_FALSE(r.has_value());
  }
  // A right program with the same shape: the extra term cancels.
  std::string ir = "1,2\nmul 3,1,2\ncopy 4,3\n";
  for (int i = 0; i < 70; ++i) ir += "add 4,4,4\n";
  ir += "add 5,3,4\nsub 5,5,4\n5\n";
  auto r = MatmulChecker(1).Check(Compile(ir));
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().Describe()));
}

TEST_CASE("matmul: the checker agrees with an exact symbolic oracle on mutated programs" * doctest::test_suite("fast")) {
  const auto base = Lines(Slurp("matmul/best_667.ir"));
  std::mt19937_64 rng(20261207);
  const MatmulChecker check(4);
  const char* ops[] = {"add", "sub", "mul", "copy"};
  int compiled = 0, exact = 0, wrong = 0, degree = 0;
  for (int trial = 0; trial < 600; ++trial) {
    auto lines = base;
    const std::size_t body = lines.size() - 2;
    const std::size_t i = 1 + rng() % body, j = 1 + rng() % body;
    switch (rng() % 3) {
      case 0: std::swap(lines[i], lines[j]); break;  // often harmless
      case 1: {                                      // another op, same operands
        // (A wrong operand count does not compile and is skipped.)
        lines[i] = ops[rng() % 4] + lines[i].substr(lines[i].find(' '));
        break;
      }
      default: lines.erase(lines.begin() + static_cast<long>(i)); break;
    }
    auto prog = CompileIr(Join(lines), kMask32LineCap);
    if (!prog) continue;
    ++compiled;
    const Verdict want = OracleMatmul(*prog, 4);
    const auto got = check.Check(*prog);
    if (want == Verdict::kExact) {
      ++exact;
      CHECK_MESSAGE(got.has_value(), "trial " << trial << ": " << (got ? "" : got.error().Describe()));
    } else {
      ++(want == Verdict::kDegree ? degree : wrong);
      REQUIRE_FALSE(got.has_value());
      const bool says_degree = got.error().message.find("makes degree") != std::string::npos;
      CHECK_MESSAGE(says_degree == (want == Verdict::kDegree), "trial " << trial << ": " << got.error().Describe());
    }
  }
  MESSAGE("compiled " << compiled << ", exact " << exact << ", wrong " << wrong << ", degree " << degree);
  // The mutations must have reached all three verdicts for this to test much.
  CHECK(exact >= 20);
  CHECK(wrong >= 20);
  CHECK(degree >= 5);
}

TEST_CASE("symmetry refusals name the line and the pattern" * doctest::test_suite("fast")) {
  auto lines = Lines(Slurp("symmetry/baseline_six.ir"));
  SUBCASE("a program that misses one pair") {
    auto bad = lines;
    bad.erase(bad.begin() + 5);  // the last `and`
    auto r = CheckSymmetry(Compile(Join(bad)), 6);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().Describe() == "line 6: pattern 001000 (input 1 first): output 1, a non-palindrome needs 0");
  }
  SUBCASE("inputs anywhere but 1..n") {
    auto bad = lines;
    bad[0] = "1,2,3,4,5,7";
    bad[1] = "cmp 1, 1, 7, eq";
    auto r = CheckSymmetry(Compile(Join(bad)), 6);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().Describe() == "line 1: symmetry 6 places its inputs at 1..6: the first line must be 1,2,...,6");
  }
  SUBCASE("two outputs") {
    auto bad = lines;
    bad.back() = "1,2";
    auto r = CheckSymmetry(Compile(Join(bad)), 6);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().Describe() == "line 7: IR produces 2 outputs; symmetry needs 1");
  }
  SUBCASE("the output must be exactly 0 or 1") {
    // -1 for a palindrome: true to a select, wrong on the board.
    auto bad = lines;
    bad.insert(bad.end() - 1, "set 9,0");
    bad.insert(bad.end() - 1, "sub 1,9,1");
    auto r = CheckSymmetry(Compile(Join(bad)), 6);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().Describe() == "line 9: pattern 000000 (input 1 first): output -1, a palindrome needs 1");
  }
  CHECK(IsPalindrome(0b100001, 6));
  CHECK_FALSE(IsPalindrome(0b000001, 6));
  CHECK(IsPalindrome(0b10011001, 8));
}

TEST_CASE("flow layout: the heaviest set that fits in m addresses, against brute force" * doctest::test_suite("fast")) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t n = 1 + rng() % 9;
    std::vector<Lifetime> lives(n);
    for (auto& l : lives) {
      l.start = static_cast<std::uint32_t>(rng() % 12);
      l.end = l.start + 1 + static_cast<std::uint32_t>(rng() % 8);
      l.reads = rng() % 6;
    }
    // Brute force: the best layout over addresses 1..n (every value may take
    // any address; overlapping values differ), by depth-first search.
    std::vector<std::uint64_t> addr(n, 0), best_addr;
    std::uint64_t best = UINT64_MAX;
    auto search = [&](auto&& self, std::size_t v, std::uint64_t cost) -> void {
      if (cost >= best) return;
      if (v == n) { best = cost; best_addr = addr; return; }
      for (std::uint64_t a = 1; a <= n; ++a) {
        bool clash = false;
        for (std::size_t u = 0; u < v; ++u)
          clash = clash || (addr[u] == a && lives[u].start < lives[v].end && lives[v].start < lives[u].end);
        if (clash) continue;
        addr[v] = a;
        self(self, v + 1, cost + lives[v].reads * ReadCost(a));
      }
    };
    search(search, 0, 0);
    const std::uint64_t bound = LayoutLowerBound(lives);
    const auto flow = TierFlowLayout(lives);
    CHECK_MESSAGE(bound <= best, "trial " << trial);
    CHECK(LayoutCost(lives, flow) >= best);
    // Flow's layout is valid: overlapping lifetimes never share an address.
    for (std::size_t u = 0; u < n; ++u)
      for (std::size_t v = u + 1; v < n; ++v)
        if (lives[u].start < lives[v].end && lives[v].start < lives[u].end) CHECK(flow[u] != flow[v]);
  }
}

TEST_CASE("flow layout keeps pinned lifetimes at their addresses" * doctest::test_suite("fast")) {
  std::vector<Lifetime> lives = {{0, 10, 1, 1}, {0, 4, 1, 2}, {0, 3, 1, 3}, {1, 5, 9, 0}, {5, 9, 9, 0}, {3, 6, 4, 0}};
  const auto a = TierFlowLayout(lives);
  CHECK(a[0] == 1);
  CHECK(a[1] == 2);
  CHECK(a[2] == 3);
  for (std::size_t u = 0; u < lives.size(); ++u)
    for (std::size_t v = u + 1; v < lives.size(); ++v)
      if (lives[u].start < lives[v].end && lives[v].start < lives[u].end) CHECK(a[u] != a[v]);
  CHECK(a[4] == 2);  // the heavy late value takes the cheapest address free then
}

TEST_CASE("optimiser on matmul 4x4: the record's order is bounded by 664 and the result checks" * doctest::test_suite("fast")) {
  const MatmulChecker check(4);
  const IrProgram record = Compile(Slurp("matmul/best_667.ir"));
  OptimizeStats st;
  const IrProgram same = Compile(OptimizeIr(record, &st));
  CHECK(st.lower_bound == 664);
  CHECK(st.cost_after <= 667);
  auto r = check.Check(same);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().Describe()));
  CHECK(r->cost == st.cost_after);
  const IrProgram scrambled = Compile(Scramble(Slurp("matmul/best_667.ir"), 400, 3));
  CHECK(scrambled.cost > 1000);
  const IrProgram fixed = Compile(OptimizeIr(scrambled, &st));
  CHECK(check.Check(fixed).has_value());
  MESSAGE("4x4 from scrambled: " << scrambled.cost << " -> " << st.cost_after << ", bound " << st.lower_bound);
  CHECK(st.cost_after <= 668);
}

TEST_CASE("optimiser on matmul 16x16: from scrambled addresses to 63,491 or less; the record never worse" * doctest::test_suite("slow")) {
  const MatmulChecker check(16);
  const std::string text = Slurp("matmul/best_63290.ir");
  const IrProgram scrambled = Compile(Scramble(text, 20000, 11));
  OptimizeStats st;
  const IrProgram fixed = Compile(OptimizeIr(scrambled, &st));
  auto r = check.Check(fixed);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().Describe()));
  MESSAGE("16x16 from scrambled: " << scrambled.cost << " -> " << st.cost_after << ", bound " << st.lower_bound);
  CHECK(st.cost_after <= 63491);
  CHECK(st.lower_bound == 63150);
  const IrProgram record = Compile(text);
  const IrProgram again = Compile(OptimizeIr(record, &st));
  CHECK(check.Check(again).has_value());
  CHECK(again.cost <= 63290);
}

TEST_CASE("optimiser on symmetry keeps the inputs at 1..n and never costs more" * doctest::test_suite("fast")) {
  for (auto [file, n] : {std::pair{"symmetry/baseline_six.ir", 6}, std::pair{"symmetry/baseline_eight.ir", 8}}) {
    const IrProgram p = Compile(Slurp(file));
    OptimizeOptions fixed;
    fixed.fixed_inputs = true;
    OptimizeStats st;
    const IrProgram q = Compile(OptimizeIr(p, &st, fixed));
    auto r = CheckSymmetry(q, n);
    REQUIRE_MESSAGE(r.has_value(), file << ": " << (r ? "" : r.error().Describe()));
    CHECK(r->cost <= p.cost);
  }
  // The same function with its results far away: optimised back to the
  // published cost or less, the inputs where the board puts them.
  const IrProgram far = Compile("1,2,3,4,5,6\ncmp 50,1,6,eq\ncmp 60,2,5,eq\ncmp 70,3,4,eq\nand 80,50,60\nand 90,80,70\n90\n");
  REQUIRE(CheckSymmetry(far, 6).has_value());
  OptimizeOptions fixed;
  fixed.fixed_inputs = true;
  OptimizeStats st;
  const IrProgram back = Compile(OptimizeIr(far, &st, fixed));
  auto r = CheckSymmetry(back, 6);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().Describe()));
  MESSAGE("symmetry 6 from far addresses: " << far.cost << " -> " << r->cost << ", bound " << st.lower_bound);
  CHECK(r->cost <= 20);
  CHECK(st.lower_bound <= r->cost);
}

TEST_CASE("rescheduling keeps the function of random programs and never costs more" * doctest::test_suite("fast")) {
  // Random straight-line v3 programs over 4 bits at scattered addresses:
  // every result of the search must give the same outputs on all 16 inputs.
  std::mt19937_64 rng(99);
  int improved = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const std::string ir = RandomProgram(rng, 25, false, false);
    const IrProgram p = Compile(ir);
    for (bool fixed : {false, true}) {
      RescheduleOptions o;
      o.moves = 400;
      o.seed = static_cast<std::uint64_t>(trial);
      o.fixed_inputs = fixed;
      RescheduleStats st;
      auto found = Reschedule(p, o, &st);
      if (!found) {
        CHECK(st.cost_after == p.cost);
        continue;
      }
      ++improved;
      const IrProgram q = Compile(*found);
      CHECK(q.cost < p.cost);
      CHECK(q.cost == st.cost_after);
      if (fixed) CHECK(q.input_addrs == p.input_addrs);
      std::vector<std::int8_t> inputs;
      for (int x = 0; x < 16; ++x)
        for (int b = 0; b < 4; ++b) inputs.push_back(static_cast<std::int8_t>((x >> b) & 1));
      auto a = SimulateBatch(p, inputs, 16), b = SimulateBatch(q, inputs, 16);
      REQUIRE(a.has_value());
      REQUIRE(b.has_value());
      CHECK_MESSAGE(*a == *b, "trial " << trial << (fixed ? " (fixed inputs)" : "") << "\n" << ir << "---\n" << *found);
    }
  }
  CHECK(improved >= 60);  // most of the 120 searches find something on such layouts
}

TEST_CASE("rescheduling a naive 4x4 product: copies and a new order beat its order's bound, checked exactly" * doctest::test_suite("fast")) {
  // C[i][j] accumulated k by k, inputs at 1..32: cost 1,485, and no layout of
  // this order costs less than 784.
  std::string ir = "1";
  for (int a = 2; a <= 32; ++a) ir += "," + std::to_string(a);
  ir += "\n";
  std::string outs;
  int next = 33;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      const int acc = next++;
      ir += fmt::format("mul {},{},{}\n", acc, 1 + i * 4, 17 + j);
      for (int k = 1; k < 4; ++k) {
        const int t = next++;
        ir += fmt::format("mul {},{},{}\nadd {},{},{}\n", t, 1 + i * 4 + k, 17 + k * 4 + j, acc, acc, t);
      }
      outs += (outs.empty() ? "" : ",") + std::to_string(acc);
    }
  ir += outs + "\n";
  const IrProgram p = Compile(ir);
  REQUIRE(MatmulChecker(4).Check(p).has_value());
  OptimizeStats layout;
  OptimizeIr(p, &layout);
  CHECK(layout.lower_bound == 784);
  RescheduleOptions o;
  o.moves = 3000;
  RescheduleStats st;
  auto found = Reschedule(p, o, &st);
  REQUIRE(found.has_value());
  const IrProgram q = Compile(*found);
  auto r = MatmulChecker(4).Check(q);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().Describe()));
  MESSAGE("naive 4x4: layout alone " << layout.cost_after << ", with the search " << r->cost << " (" << st.moves
                                     << " moves, " << st.seconds << " s)");
  CHECK(r->cost < 784);
  // The same seed, the same program.
  auto again = Reschedule(p, o);
  REQUIRE(again.has_value());
  CHECK(*again == *found);
}

TEST_CASE("placed annealing keeps the function of random programs, its last state included" * doctest::test_suite("fast")) {
  // As above, but the search works on the program as written: every move is
  // checked by scanning, so the final state (accepted moves, uphill ones
  // included) must compute the same outputs as the best one.
  std::mt19937_64 rng(7);
  int improved = 0, lasts = 0;
  PlacedAnnealStats kinds;  // accepted moves of each kind, over all searches
  for (int trial = 0; trial < 80; ++trial) {
    const std::string ir = RandomProgram(rng, 30, true, true);
    const IrProgram p = Compile(ir);
    std::vector<std::int8_t> inputs;
    for (int x = 0; x < 16; ++x)
      for (int b = 0; b < 4; ++b) inputs.push_back(static_cast<std::int8_t>((x >> b) & 1));
    const auto want = SimulateBatch(p, inputs, 16);
    REQUIRE(want.has_value());
    for (bool fixed : {false, true}) {
      PlacedAnnealOptions o;
      o.moves = 3000;
      o.seed = static_cast<std::uint64_t>(trial);
      o.fixed_inputs = fixed;
      o.keep_last = true;
      o.temp_first = 4.0;
      o.reorder_span = 6;
      PlacedAnnealStats st;
      auto found = AnnealPlaced(p, o, &st);
      std::vector<std::string> texts = {st.last};
      if (found) texts.push_back(*found);
      for (const std::string& text : texts) {
        if (text.empty()) continue;
        const IrProgram q = Compile(text);
        if (fixed) CHECK(q.input_addrs == p.input_addrs);
        const auto got = SimulateBatch(q, inputs, 16);
        REQUIRE(got.has_value());
        CHECK_MESSAGE(*got == *want, "trial " << trial << (fixed ? " (fixed inputs)" : "") << "\n" << ir << "---\n" << text);
      }
      lasts += !st.last.empty();
      kinds.relocations += st.relocations;
      kinds.swaps += st.swaps;
      kinds.reorders += st.reorders;
      kinds.copies_added += st.copies_added;
      kinds.copies_dropped += st.copies_dropped;
      if (!found) {
        CHECK(st.cost_after == p.cost);
        continue;
      }
      ++improved;
      const IrProgram q = Compile(*found);
      CHECK(q.cost < p.cost);
      CHECK(q.cost == st.cost_after);
      CHECK(st.relocations + st.swaps + st.reorders + st.copies_added + st.copies_dropped == st.accepted);
    }
  }
  MESSAGE("placed annealing on random programs: " << improved << " of 160 cheaper, " << lasts << " moved");
  CHECK(improved >= 80);
  CHECK(lasts >= 150);
  // Every kind of move was taken, so each was checked by the outputs above.
  CHECK(kinds.relocations > 100);
  CHECK(kinds.swaps > 100);
  CHECK(kinds.reorders > 100);
  CHECK(kinds.copies_added > 100);
  CHECK(kinds.copies_dropped > 100);
}

TEST_CASE("placed annealing from the matmul records: checked exactly, never worse" * doctest::test_suite("slow")) {
  for (const auto& [file, n, moves] : {std::tuple{"matmul/best_667.ir", 4, 2000000ull}, {"matmul/best_63290.ir", 16, 400000ull}}) {
    const IrProgram record = Compile(Slurp(file));
    PlacedAnnealOptions o;
    o.moves = moves;
    PlacedAnnealStats st;
    auto found = AnnealPlaced(record, o, &st);
    MESSAGE(file << ": " << st.cost_before << " -> " << st.cost_after << " in " << st.seconds << " s, " << st.moves
                 << " moves, " << st.legal << " legal, " << st.accepted << " accepted (" << st.relocations << " relocations, " << st.swaps << " swaps, "
                 << st.reorders << " reorders, +" << st.copies_added << " -" << st.copies_dropped << " copies), "
                 << st.improved << " improvements");
    if (!found) continue;
    auto checked = MatmulChecker(n).Check(Compile(*found));
    REQUIRE_MESSAGE(checked.has_value(), (checked ? "" : checked.error().Describe()));
    CHECK(checked->cost == st.cost_after);
    CHECK(checked->cost < record.cost);
  }
}
