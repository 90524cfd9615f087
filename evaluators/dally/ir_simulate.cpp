// Running a compiled IR program: an exact scalar reference, and a batched
// engine with one int8 lane per instance (SPEC.md §2-§3, §7).
#include <algorithm>
#include <cstring>

#include "evaluators/dally/ir.h"

namespace ergon::evaluators::dally {
namespace {

std::int64_t Wrap(std::int64_t v) { return static_cast<std::int8_t>(static_cast<std::uint8_t>(v & 0xff)); }

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool Compare(Pred p, std::int64_t a, std::int64_t b) {
  switch (p) {
    case Pred::kEq: return a == b;
    case Pred::kNe: return a != b;
    case Pred::kLt: return a < b;
    case Pred::kLe: return a <= b;
    case Pred::kGt: return a > b;
    case Pred::kGe: return a >= b;
  }
  return false;
}

// Lanes per block: small enough that slots x lanes stays in L2.
constexpr std::size_t kBlock = 256;

IrError DivByZero() { return {IrError::Kind::kRuntimeDivByZero, 0, "integer division or modulo by zero"}; }

// One op over `n` lanes. Pointers may alias (dst may equal a source), so
// each lane reads before it writes; lanes are independent.
// Rows of different slots never overlap partially: d is either a distinct
// row or exactly a / b, and lane i only reads lane i, so there is no
// loop-carried dependence (ivdep) and GCC vectorises without alias checks.
template <class F>
inline void Lanes(std::int8_t* d, const std::int8_t* a, const std::int8_t* b, std::size_t n, F f) {
#pragma GCC ivdep
  for (std::size_t i = 0; i < n; ++i) d[i] = f(a[i], b[i]);
}

// The op loop over one block of lanes (row s of slot s starts at
// mem + s * kBlock). (target_clones("avx2") was tried: GCC then cannot
// inline the lane lambdas into the clone and it runs slower.)
bool RunOps(const IrProgram& p, std::int8_t* mem, std::size_t n) {
  auto row = [&](std::uint32_t s) { return mem + static_cast<std::size_t>(s) * kBlock; };
  for (const Op& op : p.ops) {
    std::int8_t* d = row(op.dst);
    const std::int8_t* a = row(op.a);
    const std::int8_t* b = row(op.b);
    using i8 = std::int8_t;
    auto w = [](int v) { return static_cast<i8>(static_cast<std::uint8_t>(v)); };
    switch (op.code) {
      case OpCode::kSet: std::memset(d, static_cast<std::uint8_t>(op.imm), n); break;
      case OpCode::kCopy: if (d != a) std::memcpy(d, a, n); break;
      case OpCode::kNot: Lanes(d, a, a, n, [](i8 x, i8) { return static_cast<i8>(~x); }); break;
      case OpCode::kAbs: Lanes(d, a, a, n, [&](i8 x, i8) { return w(x < 0 ? -x : x); }); break;
      case OpCode::kAdd: Lanes(d, a, b, n, [&](i8 x, i8 y) { return w(x + y); }); break;
      case OpCode::kSub: Lanes(d, a, b, n, [&](i8 x, i8 y) { return w(x - y); }); break;
      case OpCode::kMul: Lanes(d, a, b, n, [&](i8 x, i8 y) { return w(x * y); }); break;
      case OpCode::kAnd: Lanes(d, a, b, n, [](i8 x, i8 y) { return static_cast<i8>(x & y); }); break;
      case OpCode::kOr: Lanes(d, a, b, n, [](i8 x, i8 y) { return static_cast<i8>(x | y); }); break;
      case OpCode::kXor: Lanes(d, a, b, n, [](i8 x, i8 y) { return static_cast<i8>(x ^ y); }); break;
      case OpCode::kDiv:
        {
          int zero = 0;
          for (std::size_t i = 0; i < n; ++i) zero |= b[i] == 0;
          if (zero) return false;
        }
        // |x|, |y| <= 128, so x/y is at least 1/128 away from any integer it
        // is not equal to: the float quotient floors exactly. Truncation then
        // a step down for negatives, not floorf: baseline x86-64 has no
        // vector floor, and the scalar call made a 207,000-div program spend
        // 0.6 s in this loop.
        Lanes(d, a, b, n, [&](i8 x, i8 y) {
          const float q = static_cast<float>(x) / static_cast<float>(y);
          int t = static_cast<int>(q);
          t -= static_cast<float>(t) > q;
          return w(t);
        });
        break;
      case OpCode::kCmp:
        switch (op.pred) {
          case Pred::kEq: Lanes(d, a, b, n, [](i8 x, i8 y) { return static_cast<i8>(x == y); }); break;
          case Pred::kNe: Lanes(d, a, b, n, [](i8 x, i8 y) { return static_cast<i8>(x != y); }); break;
          case Pred::kLt: Lanes(d, a, b, n, [](i8 x, i8 y) { return static_cast<i8>(x < y); }); break;
          case Pred::kLe: Lanes(d, a, b, n, [](i8 x, i8 y) { return static_cast<i8>(x <= y); }); break;
          case Pred::kGt: Lanes(d, a, b, n, [](i8 x, i8 y) { return static_cast<i8>(x > y); }); break;
          case Pred::kGe: Lanes(d, a, b, n, [](i8 x, i8 y) { return static_cast<i8>(x >= y); }); break;
        }
        break;
      case OpCode::kSelect: {
        const std::int8_t* c = row(op.c);
#pragma GCC ivdep
        for (std::size_t i = 0; i < n; ++i) {  // branch-free, so it vectorises
          const i8 m = static_cast<i8>(-(a[i] != 0));
          d[i] = static_cast<i8>((b[i] & m) | (c[i] & ~m));
        }
        break;
      }
    }
  }
  return true;
}

}  // namespace

tl::expected<std::vector<std::int64_t>, IrError> SimulateOne(const IrProgram& p,
                                                              const std::vector<std::int64_t>& inputs) {
  if (inputs.size() != p.input_slots.size())
    return tl::unexpected(IrError{IrError::Kind::kArity, 0,
                                  "IR declares " + std::to_string(p.input_slots.size()) + " inputs; got " +
                                      std::to_string(inputs.size())});
  std::vector<std::int64_t> m(p.num_slots, 0);
  for (std::size_t i = 0; i < inputs.size(); ++i) m[p.input_slots[i]] = inputs[i];
  for (const Op& op : p.ops) {
    const std::int64_t a = m[op.a], b = m[op.b];
    std::int64_t r = 0;
    switch (op.code) {
      case OpCode::kSet: r = op.imm; break;
      case OpCode::kCopy: r = Wrap(a); break;
      case OpCode::kNot: r = Wrap(~a); break;
      case OpCode::kAbs: r = Wrap(a < 0 ? -a : a); break;
      case OpCode::kAdd: r = Wrap(a + b); break;
      case OpCode::kSub: r = Wrap(a - b); break;
      case OpCode::kMul: r = Wrap(a * b); break;
      case OpCode::kDiv:
        if (b == 0) return tl::unexpected(DivByZero());
        r = Wrap(FloorDiv(a, b));
        break;
      case OpCode::kAnd: r = Wrap(a & b); break;
      case OpCode::kOr: r = Wrap(a | b); break;
      case OpCode::kXor: r = Wrap(a ^ b); break;
      case OpCode::kCmp: r = Compare(op.pred, a, b) ? 1 : 0; break;
      case OpCode::kSelect: r = a != 0 ? b : m[op.c]; break;  // moved, not wrapped
    }
    m[op.dst] = r;
  }
  std::vector<std::int64_t> out;
  out.reserve(p.output_slots.size());
  for (std::uint32_t s : p.output_slots) out.push_back(m[s]);
  return out;
}

tl::expected<std::vector<std::int8_t>, IrError> SimulateBatch(const IrProgram& p,
                                                               const std::vector<std::int8_t>& inputs,
                                                               std::size_t instances) {
  const std::size_t nin = p.input_slots.size(), nout = p.output_slots.size();
  if (inputs.size() != nin * instances)
    return tl::unexpected(IrError{IrError::Kind::kArity, 0, "input batch size does not match the IR's inputs"});
  std::vector<std::int8_t> out(nout * instances);
  std::vector<std::int8_t> mem(static_cast<std::size_t>(p.num_slots) * kBlock);
  for (std::size_t base = 0; base < instances; base += kBlock) {
    const std::size_t n = std::min(kBlock, instances - base);
    std::fill(mem.begin(), mem.end(), 0);
    auto row = [&](std::uint32_t s) { return mem.data() + static_cast<std::size_t>(s) * kBlock; };
    for (std::size_t j = 0; j < nin; ++j) {
      std::int8_t* d = row(p.input_slots[j]);
      for (std::size_t i = 0; i < n; ++i) d[i] = inputs[(base + i) * nin + j];
    }
    if (!RunOps(p, mem.data(), n)) return tl::unexpected(DivByZero());
    for (std::size_t j = 0; j < nout; ++j) {
      const std::int8_t* s = row(p.output_slots[j]);
      for (std::size_t i = 0; i < n; ++i) out[(base + i) * nout + j] = s[i];
    }
  }
  return out;
}

}  // namespace ergon::evaluators::dally
