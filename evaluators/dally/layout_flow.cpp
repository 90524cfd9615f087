#include "evaluators/dally/layout_flow.h"

#include <algorithm>
#include <climits>
#include <queue>

#include "evaluators/dally/ir.h"

namespace ergon::evaluators::dally {
namespace {

// Min-cost flow on a timeline: nodes are instants in order, a chain of
// waiting edges joins each to the next, and each lifetime is an edge from
// its start to its end of capacity 1 and cost -reads. Successive shortest
// paths (Dijkstra on reduced costs) push one unit at a time, so after m
// units the flow is the heaviest set of lifetimes that fits in m addresses.
class TimelineFlow {
 public:
  // `wait[i]`: how many units may wait between instants i and i + 1.
  explicit TimelineFlow(const std::vector<std::int64_t>& wait) : adj_(wait.size() + 1) {
    for (std::size_t i = 0; i < wait.size(); ++i) Add(static_cast<int>(i), static_cast<int>(i + 1), wait[i], 0);
  }
  // The edge of one lifetime; Used(id) says whether the flow took it.
  int AddLifetime(int from, int to, std::int64_t reads) { return Add(from, to, 1, -reads); }
  bool Used(int id) const { return edges_[static_cast<std::size_t>(id)].cap == 0; }

  // Pushes up to `units` units while a unit still earns reads; returns what
  // each unit earned, in order (non-increasing).
  std::vector<std::int64_t> Run(std::int64_t units) {
    const std::size_t n = adj_.size();
    const int sink = static_cast<int>(n - 1);
    std::vector<std::int64_t> pot(n, kInf), dist(n);
    std::vector<int> via(n);
    // Every edge points forward in time, so potentials come from one pass.
    pot[0] = 0;
    for (std::size_t u = 0; u < n; ++u) {
      if (pot[u] == kInf) continue;
      for (int id : adj_[u]) {
        const Edge& e = edges_[static_cast<std::size_t>(id)];
        if (e.cap > 0 && pot[u] + e.cost < pot[static_cast<std::size_t>(e.to)]) pot[static_cast<std::size_t>(e.to)] = pot[u] + e.cost;
      }
    }
    std::vector<std::int64_t> gains;
    using Item = std::pair<std::int64_t, int>;
    while (static_cast<std::int64_t>(gains.size()) < units) {
      std::fill(dist.begin(), dist.end(), kInf);
      std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
      dist[0] = 0;
      heap.emplace(0, 0);
      while (!heap.empty()) {
        auto [d, u] = heap.top();
        heap.pop();
        const auto uu = static_cast<std::size_t>(u);
        if (d > dist[uu]) continue;
        if (u == sink) break;  // the rest is no nearer; see the potentials below
        for (int id : adj_[uu]) {
          const Edge& e = edges_[static_cast<std::size_t>(id)];
          const auto v = static_cast<std::size_t>(e.to);
          if (e.cap <= 0 || pot[v] == kInf) continue;
          const std::int64_t nd = d + e.cost + pot[uu] - pot[v];
          if (nd < dist[v]) {
            dist[v] = nd;
            via[v] = id;
            heap.emplace(nd, e.to);
          }
        }
      }
      const std::int64_t reach = dist[static_cast<std::size_t>(sink)];
      if (reach == kInf) break;
      // Potentials move by the distance, capped at the sink's: reduced
      // costs stay non-negative, and nodes beyond the sink need no search.
      for (std::size_t v = 0; v < n; ++v)
        if (pot[v] != kInf) pot[v] += std::min(dist[v], reach);
      const std::int64_t path_cost = pot[static_cast<std::size_t>(sink)] - pot[0];
      if (path_cost >= 0) break;  // the next unit would earn nothing
      for (int v = sink; v != 0;) {
        Edge& e = edges_[static_cast<std::size_t>(via[static_cast<std::size_t>(v)])];
        e.cap -= 1;
        edges_[static_cast<std::size_t>(e.rev)].cap += 1;
        v = edges_[static_cast<std::size_t>(e.rev)].to;
      }
      gains.push_back(-path_cost);
    }
    return gains;
  }

 private:
  static constexpr std::int64_t kInf = INT64_MAX / 4;
  struct Edge {
    int to, rev;
    std::int64_t cap, cost;
  };
  int Add(int from, int to, std::int64_t cap, std::int64_t cost) {
    const int id = static_cast<int>(edges_.size());
    edges_.push_back(Edge{to, id + 1, cap, cost});
    edges_.push_back(Edge{from, id, 0, -cost});
    adj_[static_cast<std::size_t>(from)].push_back(id);
    adj_[static_cast<std::size_t>(to)].push_back(id + 1);
    return id;
  }
  std::vector<std::vector<int>> adj_;
  std::vector<Edge> edges_;
};

// The instants where something starts or ends, for compressing time.
struct Timeline {
  std::vector<std::uint32_t> at;
  explicit Timeline(const std::vector<Lifetime>& lives) {
    for (const auto& l : lives) {
      at.push_back(l.start);
      at.push_back(l.end);
    }
    std::sort(at.begin(), at.end());
    at.erase(std::unique(at.begin(), at.end()), at.end());
  }
  int Index(std::uint32_t t) const {
    return static_cast<int>(std::lower_bound(at.begin(), at.end(), t) - at.begin());
  }
};

bool Overlap(const Lifetime& a, const Lifetime& b) { return a.start < b.end && b.start < a.end; }

// Gives each of `chosen` an address in [lo, lo + k) beside `pinned` (which
// keep theirs), by start time: at most k are alive at once, so one is free
// (interval graphs colour greedily). Returns those it could not place (only
// where pins get in the way).
std::vector<std::size_t> Colour(const std::vector<Lifetime>& lives, std::vector<std::size_t> chosen,
                                const std::vector<std::size_t>& pinned, std::uint64_t lo, std::uint64_t k,
                                std::vector<std::uint64_t>& addr) {
  std::sort(chosen.begin(), chosen.end(), [&](auto x, auto y) { return lives[x].start < lives[y].start; });
  std::vector<std::uint32_t> free_at(k, 0);  // each address is free from this instant on
  std::vector<std::size_t> left;
  for (std::size_t v : chosen) {
    const Lifetime& l = lives[v];
    bool placed = false;
    for (std::uint64_t j = 0; j < k && !placed; ++j) {
      if (free_at[j] > l.start) continue;
      bool clash = false;
      for (std::size_t p : pinned) clash = clash || (lives[p].pinned == lo + j && Overlap(lives[p], l));
      if (clash) continue;
      addr[v] = lo + j;
      free_at[j] = l.end;
      placed = true;
    }
    if (!placed) left.push_back(v);
  }
  return left;
}

}  // namespace

std::uint64_t LayoutCost(const std::vector<Lifetime>& lives, const std::vector<std::uint64_t>& addresses) {
  std::uint64_t c = 0;
  for (std::size_t v = 0; v < lives.size(); ++v) c += lives[v].reads * ReadCost(addresses[v]);
  return c;
}

std::vector<std::uint64_t> TierFlowLayout(const std::vector<Lifetime>& lives) {
  const Timeline time(lives);
  const std::size_t segments = time.at.empty() ? 0 : time.at.size() - 1;
  std::vector<std::uint64_t> addr(lives.size(), 0);
  std::vector<std::size_t> rest, pinned, idle;
  std::uint64_t top = 0;
  for (std::size_t v = 0; v < lives.size(); ++v) {
    if (lives[v].pinned) {
      addr[v] = lives[v].pinned;
      pinned.push_back(v);
      top = std::max(top, lives[v].pinned);
    } else if (lives[v].reads) {
      rest.push_back(v);
    } else {
      idle.push_back(v);
    }
  }
  for (std::uint64_t t = 1; !rest.empty(); ++t) {
    const std::uint64_t lo = (t - 1) * (t - 1) + 1, k = 2 * t - 1;
    // Units that may wait on each segment: k less the pins alive there.
    std::vector<std::int64_t> wait(segments, static_cast<std::int64_t>(k));
    std::vector<std::size_t> tier_pins;
    for (std::size_t p : pinned) {
      if (lives[p].pinned < lo || lives[p].pinned >= lo + k) continue;
      tier_pins.push_back(p);
      for (int s = time.Index(lives[p].start), e = time.Index(lives[p].end); s < e; ++s) --wait[static_cast<std::size_t>(s)];
    }
    for (auto& w : wait) w = std::max<std::int64_t>(w, 0);
    TimelineFlow flow(wait);
    std::vector<int> edge(rest.size());
    for (std::size_t i = 0; i < rest.size(); ++i) {
      const Lifetime& l = lives[rest[i]];
      edge[i] = flow.AddLifetime(time.Index(l.start), time.Index(l.end), static_cast<std::int64_t>(l.reads));
    }
    flow.Run(static_cast<std::int64_t>(k));
    std::vector<std::size_t> chosen, next;
    for (std::size_t i = 0; i < rest.size(); ++i) (flow.Used(edge[i]) ? chosen : next).push_back(rest[i]);
    for (std::size_t v : Colour(lives, chosen, tier_pins, lo, k, addr)) next.push_back(v);
    if (!chosen.empty()) top = std::max(top, lo + k - 1);
    rest.swap(next);
  }
  // Lifetimes nobody reads: above everything, coloured among themselves.
  std::uint64_t high = 0;
  for (std::size_t v = 0; v < addr.size(); ++v) high = std::max(high, addr[v]);
  if (!idle.empty()) Colour(lives, idle, {}, high + 1, idle.size(), addr);
  return addr;
}

std::uint64_t LayoutLowerBound(const std::vector<Lifetime>& lives) {
  const Timeline time(lives);
  std::uint64_t total = 0;
  for (const auto& l : lives) total += l.reads;
  if (total == 0 || time.at.size() < 2) return total;
  TimelineFlow flow(std::vector<std::int64_t>(time.at.size() - 1, static_cast<std::int64_t>(lives.size())));
  for (const auto& l : lives)
    if (l.reads) flow.AddLifetime(time.Index(l.start), time.Index(l.end), static_cast<std::int64_t>(l.reads));
  const std::vector<std::int64_t> gains = flow.Run(static_cast<std::int64_t>(lives.size()));
  // F(m): the heaviest weight that fits in m addresses.
  std::vector<std::uint64_t> fits(gains.size() + 1, 0);
  for (std::size_t m = 0; m < gains.size(); ++m) fits[m + 1] = fits[m] + static_cast<std::uint64_t>(gains[m]);
  std::uint64_t bound = total;
  for (std::uint64_t j = 1;; ++j) {
    const std::uint64_t m = std::min<std::uint64_t>(j * j, gains.size());
    if (fits[m] >= total) break;
    bound += total - fits[m];
    if (m == gains.size()) break;  // cannot happen: with room for all, all fit
  }
  return bound;
}

}  // namespace ergon::evaluators::dally
