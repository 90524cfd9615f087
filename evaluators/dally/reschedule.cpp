#include "evaluators/dally/reschedule.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "evaluators/dally/layout_flow.h"

namespace ergon::evaluators::dally {
namespace {

constexpr std::uint32_t kNoValue = UINT32_MAX;

// A program in SSA: values 0..nin-1 are the inputs; each op defines
// `value`, and its Op::a/b/c name the values it reads (Op::dst unused).
struct SsaOp {
  Op op;
  std::uint32_t value;
};
struct Ssa {
  std::size_t nin = 0;
  std::vector<SsaOp> ops;
  std::vector<std::uint32_t> outputs;
  std::uint32_t nvalues = 0;
};


// SSA of `p` without its dead ops (their values are read by nothing).
Ssa ToSsa(const IrProgram& p) {
  Ssa s;
  s.nin = p.input_slots.size();
  std::vector<std::uint32_t> cur(p.num_slots, kNoValue);
  for (std::size_t i = 0; i < s.nin; ++i) cur[p.input_slots[i]] = static_cast<std::uint32_t>(i);
  s.nvalues = static_cast<std::uint32_t>(s.nin);
  for (const Op& o : p.ops) {
    SsaOp x{o, s.nvalues++};
    for (int k = 0; k < ReadCount(o.code); ++k) Source(x.op, k) = cur[Source(o, k)];
    cur[o.dst] = x.value;
    s.ops.push_back(x);
  }
  for (std::uint32_t slot : p.output_slots) s.outputs.push_back(cur[slot]);
  std::vector<char> live(s.nvalues, 0);
  for (auto v : s.outputs) live[v] = 1;
  for (std::size_t i = s.ops.size(); i-- > 0;)
    if (live[s.ops[i].value])
      for (int k = 0; k < ReadCount(s.ops[i].op.code); ++k) live[Source(s.ops[i].op, k)] = 1;
  std::erase_if(s.ops, [&](const SsaOp& x) { return !live[x.value]; });
  return s;
}

// Prices states: the flow layout's cost of their lifetimes.
class Pricer {
 public:
  Pricer(std::size_t nin, const std::vector<std::uint64_t>* pins) : nin_(nin), pins_(pins) {}

  std::uint64_t Price(const Ssa& s) {
    Lives(s);
    return LayoutCost(lives_, TierFlowLayout(lives_));
  }

 private:
  void Lives(const Ssa& s) {
    const std::size_t n = s.ops.size();
    index_.assign(s.nvalues, -1);
    lives_.clear();
    auto add = [&](std::uint32_t v, std::uint32_t start) {
      index_[v] = static_cast<int>(lives_.size());
      Lifetime l;
      l.start = start;
      l.end = start + 1;
      if (pins_ && v < nin_) l.pinned = (*pins_)[v];
      lives_.push_back(l);
    };
    for (std::uint32_t v = 0; v < nin_; ++v) add(v, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const Op& op = s.ops[i].op;
      const auto t = static_cast<std::uint32_t>(i + 1);
      for (int k = 0; k < ReadCount(op.code); ++k) {
        Lifetime& l = lives_[static_cast<std::size_t>(index_[Source(op, k)])];
        ++l.reads;
        l.end = std::max(l.end, t);
      }
      add(s.ops[i].value, t);
    }
    for (auto v : s.outputs) {
      Lifetime& l = lives_[static_cast<std::size_t>(index_[v])];
      ++l.reads;
      l.end = static_cast<std::uint32_t>(n + 2);
    }
  }

  std::size_t nin_;
  const std::vector<std::uint64_t>* pins_;
  std::vector<int> index_;
  std::vector<Lifetime> lives_;
};

// Position of each value's definition (-1 for inputs), and each op's
// earliest and latest legal position.
struct Window {
  std::size_t lo, hi;
};
Window LegalWindow(const Ssa& s, std::size_t i) {
  const std::uint32_t me = s.ops[i].value;
  const Op& op = s.ops[i].op;
  std::size_t lo = 0, hi = s.ops.size() - 1;
  for (std::size_t j = 0; j < s.ops.size(); ++j) {
    if (j < i) {
      const std::uint32_t v = s.ops[j].value;
      for (int k = 0; k < ReadCount(op.code); ++k)
        if (Source(op, k) == v) lo = std::max(lo, j + 1);
    } else if (j > i) {
      const Op& o = s.ops[j].op;
      for (int k = 0; k < ReadCount(o.code); ++k)
        if (Source(o, k) == me) hi = std::min(hi, j - 1);
    }
  }
  return {lo, hi};
}

bool MoveOp(Ssa& s, std::mt19937_64& rng) {
  if (s.ops.size() < 2) return false;
  const std::size_t i = rng() % s.ops.size();
  const Window w = LegalWindow(s, i);
  if (w.hi <= w.lo) return false;
  std::size_t to = w.lo + rng() % (w.hi - w.lo + 1);
  if (to == i) return false;
  const SsaOp x = s.ops[i];
  s.ops.erase(s.ops.begin() + static_cast<long>(i));
  s.ops.insert(s.ops.begin() + static_cast<long>(to), x);
  return true;
}

bool EliminateCopy(Ssa& s, std::mt19937_64& rng) {
  std::vector<std::size_t> copies;
  for (std::size_t i = 0; i < s.ops.size(); ++i)
    if (s.ops[i].op.code == OpCode::kCopy) copies.push_back(i);
  if (copies.empty()) return false;
  const std::size_t i = copies[rng() % copies.size()];
  const std::uint32_t v = s.ops[i].value, from = s.ops[i].op.a;
  s.ops.erase(s.ops.begin() + static_cast<long>(i));
  for (auto& x : s.ops)
    for (int k = 0; k < ReadCount(x.op.code); ++k)
      if (Source(x.op, k) == v) Source(x.op, k) = from;
  for (auto& o : s.outputs)
    if (o == v) o = from;
  return true;
}

bool InsertCopy(Ssa& s, std::mt19937_64& rng) {
  if (s.ops.empty()) return false;
  const std::size_t j = rng() % s.ops.size();
  const int nsrc = ReadCount(s.ops[j].op.code);
  if (nsrc == 0) return false;
  const std::uint32_t v = Source(s.ops[j].op, static_cast<int>(rng() % static_cast<unsigned>(nsrc)));
  // The copy goes after v's definition and its reads before j.
  std::size_t lo = 0;
  for (std::size_t i = 0; i < j; ++i) {
    if (s.ops[i].value == v) lo = i + 1;
    for (int k = 0; k < ReadCount(s.ops[i].op.code); ++k)
      if (Source(s.ops[i].op, k) == v) lo = i + 1;
  }
  const std::size_t at = lo + rng() % (j - lo + 1);
  const std::uint32_t w = s.nvalues++;
  for (std::size_t i = at; i < s.ops.size(); ++i)
    for (int k = 0; k < ReadCount(s.ops[i].op.code); ++k)
      if (Source(s.ops[i].op, k) == v) Source(s.ops[i].op, k) = w;
  for (auto& o : s.outputs)
    if (o == v) o = w;
  Op copy{};
  copy.code = OpCode::kCopy;
  copy.a = v;
  s.ops.insert(s.ops.begin() + static_cast<long>(at), SsaOp{copy, w});
  return true;
}

// x = y + c with y = a + b read by x alone becomes y = a + c, x = y + b
// (or with a and b swapped): integer addition is associative, and so is
// addition mod 256, so the function stays exact on every board. c must
// already exist where y is computed.
bool Reassociate(Ssa& s, std::mt19937_64& rng) {
  if (s.ops.size() < 2) return false;
  const std::size_t px = rng() % s.ops.size();
  Op& x = s.ops[px].op;
  if (x.code != OpCode::kAdd) return false;
  const int ky = static_cast<int>(rng() % 2);
  const std::uint32_t y = Source(x, ky), c = Source(x, 1 - ky);
  std::size_t py = SIZE_MAX, reads_of_y = 0, def_c = 0;  // def_c: 0 for inputs, else position + 1
  for (std::size_t i = 0; i < s.ops.size(); ++i) {
    if (s.ops[i].value == y) py = i;
    if (s.ops[i].value == c) def_c = i + 1;
    for (int k = 0; k < ReadCount(s.ops[i].op.code); ++k) reads_of_y += Source(s.ops[i].op, k) == y;
  }
  for (auto o : s.outputs) reads_of_y += o == y;
  if (py == SIZE_MAX || reads_of_y != 1 || s.ops[py].op.code != OpCode::kAdd || def_c > py) return false;
  Op& yop = s.ops[py].op;
  const int kb = static_cast<int>(rng() % 2);  // the operand of y that moves up to x
  const std::uint32_t b = Source(yop, kb);
  Source(yop, kb) = c;
  Source(x, 1 - ky) = b;
  return true;
}

std::size_t Copies(const Ssa& s) {
  return static_cast<std::size_t>(std::count_if(s.ops.begin(), s.ops.end(), [](const SsaOp& x) { return x.op.code == OpCode::kCopy; }));
}

// The state as a program whose slots are its values.
IrProgram ToProgram(const Ssa& s, const IrProgram& original) {
  IrProgram q;
  for (std::size_t i = 0; i < s.nin; ++i) q.input_slots.push_back(static_cast<std::uint32_t>(i));
  q.input_addrs = original.input_addrs;
  for (const SsaOp& x : s.ops) {
    Op op = x.op;
    op.dst = x.value;
    q.ops.push_back(op);
  }
  q.output_slots = s.outputs;
  q.num_slots = s.nvalues;
  q.lines = s.ops.size() + 2;
  return q;
}

}  // namespace

std::optional<std::string> Reschedule(const IrProgram& p, const RescheduleOptions& options, RescheduleStats* stats) {
  const auto t0 = std::chrono::steady_clock::now();
  RescheduleStats st;
  st.cost_before = st.cost_after = p.cost;
  auto finish = [&](std::optional<std::string> r) {
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (stats) *stats = st;
    return r;
  };
  if (p.ops.empty() || p.ops.size() > options.max_ops) return finish(std::nullopt);
  Ssa cur = ToSsa(p);
  st.copies_before = Copies(cur);
  Pricer pricer(cur.nin, options.fixed_inputs ? &p.input_addrs : nullptr);
  std::uint64_t cur_cost = pricer.Price(cur);
  st.price_first = cur_cost;
  Ssa best = cur;
  std::uint64_t best_cost = cur_cost;
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double t_first = options.temp_first, t_last = options.temp_last;
  for (std::uint64_t it = 0; it < options.moves; ++it) {
    const double temp = t_first * std::pow(t_last / t_first, static_cast<double>(it) / static_cast<double>(options.moves));
    Ssa next = cur;
    const std::uint64_t pick = rng() % 20;
    const bool moved = pick < 10   ? MoveOp(next, rng)
                       : pick < 13 ? EliminateCopy(next, rng)
                       : pick < 16 ? InsertCopy(next, rng)
                                   : Reassociate(next, rng);
    if (!moved) continue;
    ++st.moves;
    const std::uint64_t cost = pricer.Price(next);
    const double delta = static_cast<double>(cost) - static_cast<double>(cur_cost);
    if (delta > 0 && unit(rng) >= std::exp(-delta / temp)) continue;
    ++st.accepted;
    cur = std::move(next);
    cur_cost = cost;
    if (cost < best_cost) {
      ++st.improved;
      best_cost = cost;
      best = cur;
    }
  }
  st.price_best = best_cost;
  OptimizeOptions layout;
  layout.fixed_inputs = options.fixed_inputs;
  if (options.keep_last && st.accepted > 0) st.last = OptimizeIr(ToProgram(cur, p), nullptr, layout);
  std::string text = OptimizeIr(ToProgram(best, p), nullptr, layout);
  auto again = CompileIr(text, kMask32LineCap);
  if (!again || again->cost >= p.cost) return finish(std::nullopt);
  st.cost_after = again->cost;
  st.copies_after = Copies(best);
  return finish(std::move(text));
}

}  // namespace ergon::evaluators::dally
