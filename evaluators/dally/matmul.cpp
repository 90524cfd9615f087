#include "evaluators/dally/matmul.h"

#include <random>
#include <unordered_map>

#include <fmt/core.h>

#include "evaluators/dally/isa.h"

namespace ergon::evaluators::dally {
namespace {

__extension__ typedef unsigned __int128 u128;

std::uint64_t MulMod(std::uint64_t a, std::uint64_t b, std::uint64_t m) {
  return static_cast<std::uint64_t>(static_cast<u128>(a) * b % m);
}
std::uint64_t AddMod(std::uint64_t a, std::uint64_t b, std::uint64_t m) {
  const std::uint64_t s = a + b;  // a, b < m < 2^62: no overflow
  return s >= m ? s - m : s;
}
std::uint64_t SubMod(std::uint64_t a, std::uint64_t b, std::uint64_t m) { return a >= b ? a - b : a + m - b; }

std::uint64_t PowMod(std::uint64_t b, std::uint64_t e, std::uint64_t m) {
  std::uint64_t r = 1;
  for (b %= m; e; e >>= 1, b = MulMod(b, b, m))
    if (e & 1) r = MulMod(r, b, m);
  return r;
}

// A value's homogeneous parts of degree 0, 1 and 2, evaluated mod p.
struct Parts {
  std::uint64_t d[3];
  int Degree() const { return d[2] ? 2 : d[1] ? 1 : 0; }
};

std::string Entry(char m, int n, std::size_t index) {
  return fmt::format("{}[{}][{}]", m, index / static_cast<std::size_t>(n), index % static_cast<std::size_t>(n));
}

}  // namespace

bool IsPrime64(std::uint64_t x) {
  if (x < 2) return false;
  for (std::uint64_t q : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37})
    if (x % q == 0) return x == q;
  std::uint64_t d = x - 1;
  int s = 0;
  while ((d & 1) == 0) d >>= 1, ++s;
  // These twelve bases decide every x < 3.3e24.
  for (std::uint64_t a : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    std::uint64_t y = PowMod(a, d, x);
    if (y == 1 || y == x - 1) continue;
    bool composite = true;
    for (int r = 1; r < s && composite; ++r) {
      y = MulMod(y, y, x);
      if (y == x - 1) composite = false;
    }
    if (composite) return false;
  }
  return true;
}

MatmulChecker::MatmulChecker(int n, std::uint64_t seed) : n_(n) {
  std::mt19937_64 rng(seed ? seed : (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}());
  do p_ = (std::uint64_t{1} << 61) | (rng() >> 3) | 1;  // odd, in [2^61, 2^62)
  while (!IsPrime64(p_));
  const std::size_t nn = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  point_.resize(2 * nn);
  for (auto& v : point_) v = rng() % p_;
  c_.assign(nn, 0);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < n; ++k)
      for (int m = 0; m < n; ++m)
        c_[static_cast<std::size_t>(i * n + k)] =
            AddMod(c_[static_cast<std::size_t>(i * n + k)],
                   MulMod(point_[static_cast<std::size_t>(i * n + m)], point_[nn + static_cast<std::size_t>(m * n + k)], p_),
                   p_);
}

tl::expected<MatmulScore, IrError> MatmulChecker::Check(const IrProgram& prog) const {
  auto fail = [](IrError::Kind kind, int line, std::string msg) {
    return tl::unexpected(IrError{kind, line, std::move(msg)});
  };
  if (auto ok = CheckInstructionSet(prog, InstructionSet::kV0); !ok) return tl::unexpected(ok.error());
  const std::size_t nn = c_.size();
  const int last = static_cast<int>(prog.lines);
  if (prog.input_slots.size() != 2 * nn)
    return fail(IrError::Kind::kArity, 1,
                fmt::format("IR declares {} inputs; matmul {}x{} needs {} (A then B, row-major)",
                            prog.input_slots.size(), n_, n_, 2 * nn));
  if (prog.output_slots.size() != nn)
    return fail(IrError::Kind::kArity, last,
                fmt::format("IR produces {} outputs; matmul {}x{} needs {} (C row-major)", prog.output_slots.size(), n_,
                            n_, nn));

  MatmulScore score;
  score.cost = prog.cost;
  score.lines = prog.lines;
  std::vector<Parts> v(prog.num_slots, Parts{{0, 0, 0}});
  for (std::size_t i = 0; i < prog.input_slots.size(); ++i) v[prog.input_slots[i]] = Parts{{0, point_[i], 0}};
  const std::uint64_t p = p_;
  for (std::size_t i = 0; i < prog.ops.size(); ++i) {
    const Op& op = prog.ops[i];
    const Parts a = v[op.a];
    switch (op.code) {
      case OpCode::kCopy:
        ++score.copies;
        v[op.dst] = a;
        break;
      case OpCode::kAdd: {
        ++score.adds;
        const Parts b = v[op.b];
        v[op.dst] = Parts{{AddMod(a.d[0], b.d[0], p), AddMod(a.d[1], b.d[1], p), AddMod(a.d[2], b.d[2], p)}};
        break;
      }
      case OpCode::kSub: {
        ++score.subs;
        const Parts b = v[op.b];
        v[op.dst] = Parts{{SubMod(a.d[0], b.d[0], p), SubMod(a.d[1], b.d[1], p), SubMod(a.d[2], b.d[2], p)}};
        break;
      }
      case OpCode::kMul: {
        ++score.muls;
        const Parts b = v[op.b];
        const int da = a.Degree(), db = b.Degree();
        if (da + db > 2)
          return fail(IrError::Kind::kCompile, OpLine(i),
                      fmt::format("mul of a degree-{} and a degree-{} value makes degree {}; matmul allows at most 2",
                                  da, db, da + db));
        // Degrees past 2 are zero here, so the product is exact in three parts.
        v[op.dst] = Parts{{MulMod(a.d[0], b.d[0], p), AddMod(MulMod(a.d[0], b.d[1], p), MulMod(a.d[1], b.d[0], p), p),
                           AddMod(AddMod(MulMod(a.d[0], b.d[2], p), MulMod(a.d[1], b.d[1], p), p),
                                  MulMod(a.d[2], b.d[0], p), p)}};
        break;
      }
      default:
        return fail(IrError::Kind::kCompile, OpLine(i), "unreachable: op outside v0");
    }
  }
  for (std::size_t j = 0; j < nn; ++j) {
    const Parts& out = v[prog.output_slots[j]];
    if (out.d[0] == 0 && out.d[1] == 0 && out.d[2] == c_[j]) continue;
    std::string holds;
    if (out.d[0] == 0 && out.d[1] == 0)
      for (std::size_t k = 0; k < nn; ++k)
        if (c_[k] == out.d[2]) holds = fmt::format(" (it holds {})", Entry('C', n_, k));
    if (holds.empty() && out.d[1] != 0 && out.d[2] == 0)
      for (std::size_t k = 0; k < 2 * nn; ++k)
        if (point_[k] == out.d[1]) holds = fmt::format(" (it holds the input {})", k < nn ? Entry('A', n_, k) : Entry('B', n_, k - nn));
    return fail(IrError::Kind::kCompile, last,
                fmt::format("output {} is not {} = sum over m of A[{}][m] B[m][{}]{}", j + 1, Entry('C', n_, j),
                            j / static_cast<std::size_t>(n_), j % static_cast<std::size_t>(n_), holds));
  }
  return score;
}

}  // namespace ergon::evaluators::dally
