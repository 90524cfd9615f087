#include "evaluators/dally/placed_anneal.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include <fmt/core.h>

namespace ergon::evaluators::dally {
namespace {

// A program over addresses: Op::dst, a, b and c are addresses, not slots.
struct Placed {
  std::vector<std::uint32_t> inputs;
  std::vector<Op> ops;
  std::vector<std::uint32_t> outputs;
};

int ReadsOf(const Op& op, std::uint32_t addr) {
  int r = 0;
  for (int k = 0; k < ReadCount(op.code); ++k) r += Source(op, k) == addr;
  return r;
}

std::int64_t Price(std::uint32_t addr) { return static_cast<std::int64_t>(ReadCost(addr)); }

std::uint64_t CostOf(const Placed& s) {
  std::uint64_t c = 0;
  for (const Op& op : s.ops)
    for (int k = 0; k < ReadCount(op.code); ++k) c += ReadCost(Source(op, k));
  for (auto a : s.outputs) c += ReadCost(a);
  return c;
}

std::string TextOf(const Placed& s) {
  std::string out;
  out.reserve(s.ops.size() * 16);
  for (std::size_t i = 0; i < s.inputs.size(); ++i) out += fmt::format("{}{}", i ? "," : "", s.inputs[i]);
  out += '\n';
  for (const Op& op : s.ops) {
    out += OpName(op.code);
    out += fmt::format(" {}", op.dst);
    if (op.code == OpCode::kSet) out += fmt::format(",{}", op.imm);
    for (int k = 0; k < ReadCount(op.code); ++k) out += fmt::format(",{}", Source(op, k));
    if (op.code == OpCode::kCmp) {
      static constexpr const char* kPred[] = {"eq", "ne", "lt", "le", "gt", "ge"};
      out += fmt::format(",{}", kPred[static_cast<int>(op.pred)]);
    }
    out += '\n';
  }
  for (std::size_t i = 0; i < s.outputs.size(); ++i) out += fmt::format("{}{}", i ? "," : "", s.outputs[i]);
  out += '\n';
  return out;
}

// Renames addresses so the most-read get the lowest numbers (a bijection:
// the function is unchanged, and by the rearrangement inequality the cost
// can only fall). Not for boards that fix their inputs.
void RenameByReads(Placed& s, std::uint32_t top) {
  std::vector<std::uint64_t> reads(top + 1, 0);
  std::vector<char> used(top + 1, 0);
  for (const Op& op : s.ops) {
    used[op.dst] = 1;
    for (int k = 0; k < ReadCount(op.code); ++k) ++reads[Source(op, k)];
  }
  for (auto a : s.inputs) used[a] = 1;
  for (auto a : s.outputs) ++reads[a];
  std::vector<std::uint32_t> order;
  for (std::uint32_t a = 1; a <= top; ++a)
    if (used[a]) order.push_back(a);
  std::stable_sort(order.begin(), order.end(), [&](auto x, auto y) { return reads[x] > reads[y]; });
  std::vector<std::uint32_t> to(top + 1, 0);
  for (std::size_t r = 0; r < order.size(); ++r) to[order[r]] = static_cast<std::uint32_t>(r + 1);
  for (Op& op : s.ops) {
    op.dst = to[op.dst];
    for (int k = 0; k < ReadCount(op.code); ++k) Source(op, k) = to[Source(op, k)];
  }
  for (auto& a : s.inputs) a = to[a];
  for (auto& a : s.outputs) a = to[a];
}

// The search state with its moves. A position is an op's index; -1 stands
// for the start (where inputs are written) and ops.size() for the end
// (where outputs are read).
class Search {
 public:
  Search(Placed s, const PlacedAnnealOptions& o, std::uint32_t top)
      : s_(std::move(s)), o_(o), top_(top), is_input_(top + 1, 0), rng_(o.seed) {
    for (auto a : s_.inputs) is_input_[a] = 1;
    tiers_ = static_cast<std::uint32_t>(ReadCost(top));
  }

  const Placed& state() const { return s_; }
  std::mt19937_64& rng() { return rng_; }

  // A move with its cost change, or nullopt when it would be illegal. The
  // move is applied only by Apply().
  struct Move {
    enum class Kind { kRelocate, kSwap, kReorder, kAddCopy, kDropCopy } kind;
    std::int64_t delta = 0;
    // relocate: position p (-1: input q); swap: the values written at p and
    // q; reorder: from p to q; copies: op p, reads up to q
    std::int64_t p = 0, q = 0;
    std::uint32_t from = 0, to = 0;  // addresses
  };

  std::optional<Move> Propose() {
    const std::uint64_t pick = rng_() % 20;
    if (pick < 5) return Relocate();
    if (pick < 9) return Swap();
    if (pick < 14) return Reorder();
    if (pick < 17) return AddCopy();
    return DropCopy();
  }

  void Apply(const Move& m) {
    switch (m.kind) {
      case Move::Kind::kRelocate:
        if (m.p < 0) {
          is_input_[m.from] = 0;
          is_input_[m.to] = 1;
          s_.inputs[static_cast<std::size_t>(m.q)] = m.to;
        } else {
          s_.ops[static_cast<std::size_t>(m.p)].dst = m.to;
        }
        Redirect(m.p + 1, LifeOf(m.p, m.from).last, m.from, m.to);
        break;
      case Move::Kind::kSwap: {
        // Through address 0 (never used), so that an op reading both
        // values ends with each at the other's address.
        const Life v = LifeOf(m.p, m.from), w = LifeOf(m.q, m.to);
        Redirect(m.p + 1, v.last, m.from, 0);
        Redirect(m.q + 1, w.last, m.to, m.from);
        Redirect(m.p + 1, v.last, 0, m.to);
        s_.ops[static_cast<std::size_t>(m.p)].dst = m.to;
        s_.ops[static_cast<std::size_t>(m.q)].dst = m.from;
        break;
      }
      case Move::Kind::kReorder: {
        auto at = [&](std::int64_t i) { return s_.ops.begin() + static_cast<long>(i); };
        if (m.q < m.p) std::rotate(at(m.q), at(m.p), at(m.p + 1));
        else std::rotate(at(m.p), at(m.p + 1), at(m.q + 1));
        break;
      }
      case Move::Kind::kAddCopy: {
        Redirect(m.p, m.q, m.from, m.to);
        Op copy{};
        copy.code = OpCode::kCopy;
        copy.dst = m.to;
        copy.a = m.from;
        s_.ops.insert(s_.ops.begin() + static_cast<long>(m.p), copy);
        break;
      }
      case Move::Kind::kDropCopy:
        if (m.from != m.to) Redirect(m.p + 1, LifeOf(m.p, m.to).last, m.to, m.from);
        s_.ops.erase(s_.ops.begin() + static_cast<long>(m.p));
        break;
    }
  }

 private:
  std::int64_t End() const { return static_cast<std::int64_t>(s_.ops.size()); }

  struct Life {
    std::int64_t reads = 0;
    std::int64_t last = 0;  // position of the last read (End(): the outputs); the definition if unread
  };
  // The value written to `addr` at position p: its reads and its last read.
  Life LifeOf(std::int64_t p, std::uint32_t addr) const {
    Life l{0, p};
    for (std::int64_t q = p + 1; q < End(); ++q) {
      const Op& op = s_.ops[static_cast<std::size_t>(q)];
      if (int r = ReadsOf(op, addr)) {
        l.reads += r;
        l.last = q;
      }
      if (op.dst == addr) return l;
    }
    const auto outs = std::count(s_.outputs.begin(), s_.outputs.end(), addr);
    if (outs) {
      l.reads += outs;
      l.last = End();
    }
    return l;
  }

  // After position `from`, `addr` holds nothing that is read again and is
  // not written before position `to` (a write at `to` comes after its reads).
  bool FreeOver(std::uint32_t addr, std::int64_t from, std::int64_t to) const {
    for (std::int64_t q = from + 1; q < End(); ++q) {
      const Op& op = s_.ops[static_cast<std::size_t>(q)];
      if (ReadsOf(op, addr)) return false;
      if (op.dst == addr) return q >= to;
    }
    return std::find(s_.outputs.begin(), s_.outputs.end(), addr) == s_.outputs.end();
  }

  // Reads of `from` at positions [p, last] (outputs too when last is the
  // end) now read `to`.
  void Redirect(std::int64_t p, std::int64_t last, std::uint32_t from, std::uint32_t to) {
    for (std::int64_t q = p; q <= std::min(last, End() - 1); ++q) {
      Op& op = s_.ops[static_cast<std::size_t>(q)];
      for (int k = 0; k < ReadCount(op.code); ++k)
        if (Source(op, k) == from) Source(op, k) = to;
    }
    if (last == End())
      for (auto& a : s_.outputs)
        if (a == from) a = to;
  }

  // An address free over (from, to] in a random tier of 1..max_tier, tried
  // from a random one of the tier's addresses on; 0 if the tier has none.
  template <typename Allowed>
  std::uint32_t FreeAddress(std::uint32_t max_tier, std::int64_t from, std::int64_t to, Allowed allowed) {
    const auto t = static_cast<std::uint32_t>(1 + rng_() % std::max<std::uint32_t>(1, max_tier));
    const std::uint32_t lo = (t - 1) * (t - 1) + 1, hi = std::min(t * t, top_);
    if (hi < lo) return 0;
    const std::uint32_t n = hi - lo + 1, first = static_cast<std::uint32_t>(rng_() % n);
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint32_t a = lo + (first + i) % n;
      if (allowed(a) && FreeOver(a, from, to)) return a;
    }
    return 0;
  }

  std::optional<Move> Relocate() {
    const auto nin = static_cast<std::int64_t>(s_.inputs.size());
    std::int64_t pick = static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(End() + nin));
    Move m{Move::Kind::kRelocate};
    if (pick >= End()) {
      if (o_.fixed_inputs) return std::nullopt;
      m.p = -1;
      m.q = pick - End();
      m.from = s_.inputs[static_cast<std::size_t>(m.q)];
    } else {
      m.p = pick;
      m.from = s_.ops[static_cast<std::size_t>(pick)].dst;
    }
    const std::uint32_t tier = static_cast<std::uint32_t>(ReadCost(m.from));
    const Life l = LifeOf(m.p, m.from);
    if (l.reads == 0) return std::nullopt;
    m.to = FreeAddress(rng_() % 5 ? tier : tiers_, m.p, l.last, [&](std::uint32_t a) {
      return a != m.from && !(m.p < 0 && is_input_[a]);
    });
    if (m.to == 0) return std::nullopt;
    m.delta = l.reads * (Price(m.to) - Price(m.from));
    return m;
  }

  // Where the value op p writes to `addr` could be replaced by another:
  // from the earliest op that may write it (after the last touch of the
  // value before) to the latest that may read it (the next write, or the end).
  struct Gap {
    std::int64_t earliest = 0, latest = 0;
  };
  Gap GapOf(std::int64_t p, std::uint32_t addr, const Life& life) const {
    Gap g{0, End()};
    if (ReadsOf(s_.ops[static_cast<std::size_t>(p)], addr)) {
      g.earliest = p;
    } else {
      for (std::int64_t r = p - 1; r >= 0; --r) {
        const Op& op = s_.ops[static_cast<std::size_t>(r)];
        if (op.dst == addr) { g.earliest = r + 1; break; }
        if (ReadsOf(op, addr)) { g.earliest = r; break; }
      }
    }
    for (std::int64_t r = std::max(life.last, p + 1); r < End(); ++r)
      if (s_.ops[static_cast<std::size_t>(r)].dst == addr) {
        g.latest = r;
        break;
      }
    return g;
  }

  // The value op p writes and the one at another address that overlaps it
  // trade addresses, when each fits where the other was.
  std::optional<Move> Swap() {
    Move m{Move::Kind::kSwap};
    m.p = static_cast<std::int64_t>(rng_() % s_.ops.size());
    m.from = s_.ops[static_cast<std::size_t>(m.p)].dst;
    const Life v = LifeOf(m.p, m.from);
    if (v.reads == 0) return std::nullopt;
    const auto tier = static_cast<std::uint32_t>(1 + rng_() % tiers_);
    const std::uint32_t lo = (tier - 1) * (tier - 1) + 1, hi = std::min(tier * tier, top_);
    if (hi < lo) return std::nullopt;
    m.to = lo + static_cast<std::uint32_t>(rng_() % (hi - lo + 1));
    if (m.to == m.from) return std::nullopt;
    // The other value: the one at `to` when v is written, or else the next
    // written there while v lives.
    m.q = -1;
    for (std::int64_t r = m.p + 1; r <= std::min(v.last, End() - 1); ++r) {
      const Op& op = s_.ops[static_cast<std::size_t>(r)];
      if (ReadsOf(op, m.to)) {  // live at p: written before it
        for (std::int64_t d = m.p - 1; d >= 0 && m.q < 0; --d)
          if (s_.ops[static_cast<std::size_t>(d)].dst == m.to) m.q = d;
        if (m.q < 0) return std::nullopt;  // an input: relocation moves those
        break;
      }
      if (op.dst == m.to) {
        m.q = r;
        break;
      }
    }
    if (m.q < 0) return std::nullopt;  // nothing there: relocation's case
    const Life w = LifeOf(m.q, m.to);
    const Gap ga = GapOf(m.p, m.from, v), gb = GapOf(m.q, m.to, w);
    auto fits = [&](std::int64_t def, const Life& l, const Gap& g) {
      return g.earliest <= def && l.last <= g.latest;
    };
    if (!fits(m.p, v, gb) || !fits(m.q, w, ga)) return std::nullopt;
    // A value read at the end needs its address to stay unwritten to the end.
    if ((v.last == End() && gb.latest != End()) || (w.last == End() && ga.latest != End())) return std::nullopt;
    m.delta = (v.reads - w.reads) * (Price(m.to) - Price(m.from));
    return m;
  }

  std::optional<Move> Reorder() {
    if (s_.ops.size() < 2) return std::nullopt;
    Move m{Move::Kind::kReorder};
    m.p = static_cast<std::int64_t>(rng_() % s_.ops.size());
    const Op& op = s_.ops[static_cast<std::size_t>(m.p)];
    // Its sources stay as they were, and its own address is used by no op
    // it passes (a reader would see the wrong value, a writer would
    // overwrite it or be overwritten).
    auto blocks = [&](std::int64_t r) {
      const Op& other = s_.ops[static_cast<std::size_t>(r)];
      return ReadsOf(op, other.dst) > 0 || other.dst == op.dst || ReadsOf(other, op.dst) > 0;
    };
    const auto span = static_cast<std::int64_t>(std::max<std::size_t>(1, o_.reorder_span));
    std::int64_t lo = m.p, hi = m.p;
    while (lo > 0 && m.p - lo < span && !blocks(lo - 1)) --lo;
    while (hi + 1 < End() && hi - m.p < span && !blocks(hi + 1)) ++hi;
    if (lo == hi) return std::nullopt;
    m.q = lo + static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(hi - lo));
    if (m.q >= m.p) ++m.q;  // any place in [lo, hi] but its own
    return m;
  }

  std::optional<Move> AddCopy() {
    if (s_.ops.empty()) return std::nullopt;
    Move m{Move::Kind::kAddCopy};
    m.p = static_cast<std::int64_t>(rng_() % s_.ops.size());
    const Op& op = s_.ops[static_cast<std::size_t>(m.p)];
    if (ReadCount(op.code) == 0) return std::nullopt;
    m.from = Source(op, static_cast<int>(rng_() % static_cast<unsigned>(ReadCount(op.code))));
    const auto tier = static_cast<std::uint32_t>(ReadCost(m.from));
    if (tier == 1) return std::nullopt;
    // The value's reads from p on; the copy serves those up to a random one.
    std::vector<std::pair<std::int64_t, int>> reads;
    for (std::int64_t q = m.p; q < End(); ++q) {
      const Op& x = s_.ops[static_cast<std::size_t>(q)];
      if (int r = ReadsOf(x, m.from)) reads.emplace_back(q, r);
      if (x.dst == m.from) break;
      if (q + 1 == End()) {
        const auto outs = static_cast<int>(std::count(s_.outputs.begin(), s_.outputs.end(), m.from));
        if (outs) reads.emplace_back(End(), outs);
      }
    }
    const std::size_t upto = rng_() % reads.size();
    m.q = reads[upto].first;
    std::int64_t served = 0;
    for (std::size_t i = 0; i <= upto; ++i) served += reads[i].second;
    m.to = FreeAddress(tier - 1, m.p - 1, m.q, [](std::uint32_t) { return true; });
    if (m.to == 0) return std::nullopt;
    m.delta = Price(m.from) - served * (Price(m.from) - Price(m.to));
    return m;
  }

  std::optional<Move> DropCopy() {
    if (s_.ops.empty()) return std::nullopt;
    Move m{Move::Kind::kDropCopy};
    m.p = static_cast<std::int64_t>(rng_() % s_.ops.size());
    const Op& op = s_.ops[static_cast<std::size_t>(m.p)];
    if (op.code != OpCode::kCopy) return std::nullopt;
    m.from = op.a;
    m.to = op.dst;
    if (m.from == m.to) {
      m.delta = -Price(m.from);
      return m;
    }
    const Life l = LifeOf(m.p, m.to);
    // The source must still hold the value at every read of the copy.
    for (std::int64_t r = m.p + 1; r < std::min(l.last, End()); ++r)
      if (s_.ops[static_cast<std::size_t>(r)].dst == m.from) return std::nullopt;
    m.delta = -Price(m.from) + l.reads * (Price(m.from) - Price(m.to));
    return m;
  }

  Placed s_;
  const PlacedAnnealOptions& o_;
  std::uint32_t top_, tiers_ = 1;
  std::vector<char> is_input_;
  std::mt19937_64 rng_;
};

}  // namespace

std::optional<std::string> AnnealPlaced(const IrProgram& p, const PlacedAnnealOptions& options,
                                        PlacedAnnealStats* stats) {
  const auto t0 = std::chrono::steady_clock::now();
  PlacedAnnealStats st;
  st.cost_before = st.cost_after = p.cost;
  auto finish = [&](std::optional<std::string> r) {
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (stats) *stats = st;
    return r;
  };
  std::uint64_t highest = 1;
  for (auto a : p.slot_addrs) highest = std::max(highest, a);
  if (p.ops.empty() || highest > (1ull << 31)) return finish(std::nullopt);
  Placed start;
  auto addr = [&](std::uint32_t slot) { return static_cast<std::uint32_t>(p.slot_addrs[slot]); };
  for (auto slot : p.input_slots) start.inputs.push_back(addr(slot));
  for (Op op : p.ops) {
    op.dst = addr(op.dst);
    for (int k = 0; k < ReadCount(op.code); ++k) Source(op, k) = addr(Source(op, k));
    start.ops.push_back(op);
  }
  for (auto slot : p.output_slots) start.outputs.push_back(addr(slot));
  // New addresses come from the tiers in use and one more.
  const std::uint64_t tiers = ReadCost(highest) + 1;
  const auto top = static_cast<std::uint32_t>(std::max<std::uint64_t>(highest, tiers * tiers));

  Search search(std::move(start), options, top);
  std::int64_t cost = static_cast<std::int64_t>(CostOf(search.state()));
  const std::int64_t first = cost;
  std::int64_t best_cost = cost;
  Placed best = search.state();
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double t_first = options.temp_first, t_last = options.temp_last;
  for (std::uint64_t it = 0; it < options.moves; ++it) {
    ++st.moves;
    auto m = search.Propose();
    if (!m) continue;
    ++st.legal;
    if (m->delta > 0) {
      const double temp =
          t_first * std::pow(t_last / t_first, static_cast<double>(it) / static_cast<double>(options.moves));
      if (unit(search.rng()) >= std::exp(-static_cast<double>(m->delta) / temp)) continue;
    }
    search.Apply(*m);
    ++st.accepted;
    using K = Search::Move::Kind;
    (m->kind == K::kRelocate ? st.relocations
     : m->kind == K::kSwap    ? st.swaps
     : m->kind == K::kReorder ? st.reorders
     : m->kind == K::kAddCopy ? st.copies_added
                              : st.copies_dropped)++;
    cost += m->delta;
    if (cost < best_cost) {
      ++st.improved;
      best_cost = cost;
      best = search.state();
    }
  }
  st.cost_last = static_cast<std::uint64_t>(cost);
  if (options.keep_last && st.accepted > 0) st.last = TextOf(search.state());
  if (!options.fixed_inputs) RenameByReads(best, top);
  best_cost = static_cast<std::int64_t>(CostOf(best));
  if (best_cost >= first) return finish(std::nullopt);
  st.cost_after = static_cast<std::uint64_t>(best_cost);
  return finish(TextOf(best));
}

}  // namespace ergon::evaluators::dally
