// Sampling parents and inspirations, and island migration. Seeded: choices
// depend only on the archive's contents and the rng state.
#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/core.h>

#include "archive/impl.h"

namespace ergon::archive {

using internal::Stmt;

namespace {

// Uniform in [0, 1) from the rng's raw output (std distributions' algorithms
// are implementation-defined; this is ours, so seeds replay everywhere).
double Unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

struct Member {
  std::int64_t id;
  int children;
  double fitness;
};

Result<std::vector<Member>> TopMembers(sqlite3* db, const std::string& task, int island, int limit,
                                       const RunScope& scope, bool home_only = false) {
  std::vector<Member> out;
  // Home members, best first; then migrated-in members.
  Stmt home(db, ("SELECT c.id, c.children, c.best_fitness FROM candidates c WHERE c.task=?1 AND c.island=?2 AND "
                 "c.gate_passed=1 AND c.status<>'overfit' AND " + internal::ScopeSql("c") +
                 " ORDER BY c.best_fitness DESC, c.id LIMIT ?3").c_str());
  home.Bind(1, task).Bind(2, island).Bind(3, limit);
  internal::BindScope(home, scope);
  while (home.Step()) out.push_back({home.Int(0), static_cast<int>(home.Int(1)), home.Real(2)});
  if (!home.ok() || home.failed()) return tl::unexpected(home.error());
  if (home_only) return out;
  Stmt mig(db, ("SELECT c.id, c.children, c.best_fitness FROM migrations m CROSS JOIN candidates c ON "
                "c.id=m.candidate_id WHERE m.to_island=?1 AND c.task=?2 AND c.gate_passed=1 AND c.status<>'overfit' AND " +
                internal::ScopeSql("c")).c_str());
  mig.Bind(1, island).Bind(2, task);
  internal::BindScope(mig, scope);
  while (mig.Step()) out.push_back({mig.Int(0), static_cast<int>(mig.Int(1)), mig.Real(2)});
  if (mig.failed()) return tl::unexpected(mig.error());
  std::sort(out.begin(), out.end(), [](const Member& a, const Member& b) {
    return a.fitness != b.fitness ? a.fitness > b.fitness : a.id < b.id;
  });
  out.erase(std::unique(out.begin(), out.end(), [](const Member& a, const Member& b) { return a.id == b.id; }),
            out.end());
  if (static_cast<int>(out.size()) > limit) out.resize(static_cast<std::size_t>(limit));
  return out;
}

}  // namespace

Result<std::optional<std::int64_t>> Archive::SampleParent(const std::string& task, int island, std::mt19937_64& rng,
                                                          const RunScope& scope) {
  auto members = TopMembers(impl_->db, task, island, 32, scope);
  if (!members) return tl::unexpected(members.error());
  if (members->empty()) {
    // Nothing passed the gate yet: the best evaluated candidate of the island.
    Stmt s(impl_->db, ("SELECT c.id FROM candidates c WHERE c.task=?1 AND c.island=?2 AND c.status='evaluated' AND "
                       "c.best_fitness IS NOT NULL AND " + internal::ScopeSql("c") +
                       " ORDER BY c.best_fitness DESC, c.id LIMIT 1").c_str());
    s.Bind(1, task).Bind(2, island);
    internal::BindScope(s, scope);
    if (s.Step()) return std::optional<std::int64_t>(s.Int(0));
    if (s.failed()) return tl::unexpected(s.error());
    return std::optional<std::int64_t>();
  }
  // The policy (archive.h): 85% by rank, halving per place and damped
  // mildly by children; 15% spread evenly, so every member stays reachable.
  constexpr double kExplore = 0.15;
  std::vector<double> rank_w;
  double rank_total = 0;
  for (std::size_t r = 0; r < members->size(); ++r) {
    const double x = std::ldexp(1.0, -static_cast<int>(r)) / std::sqrt(1.0 + (*members)[r].children / 8.0);
    rank_w.push_back(x);
    rank_total += x;
  }
  std::vector<double> w;
  double total = 0;
  for (double x : rank_w) {
    w.push_back((1 - kExplore) * x / rank_total + kExplore / static_cast<double>(rank_w.size()));
    total += w.back();
  }
  double u = Unit(rng) * total;
  for (std::size_t r = 0; r < w.size(); ++r) {
    if (u < w[r]) return std::optional<std::int64_t>((*members)[r].id);
    u -= w[r];
  }
  return std::optional<std::int64_t>(members->back().id);
}

Result<std::vector<std::int64_t>> Archive::SampleInspirations(const std::string& task, std::int64_t parent, int n,
                                                              std::mt19937_64& rng, const RunScope& scope) {
  std::set<std::int64_t> pool;
  if (scope.run_id != 0) {
    Stmt own(impl_->db, ("SELECT c.id FROM candidates c WHERE c.task=?1 AND c.id<>?2 AND c.gate_passed=1 AND "
                         "c.status NOT IN ('overfit', 'pending') AND " + internal::ScopeSql("c") +
                         " ORDER BY c.best_fitness DESC, c.id LIMIT 8").c_str());
    own.Bind(1, task).Bind(2, parent);
    internal::BindScope(own, scope);
    while (own.Step()) pool.insert(own.Int(0));
    if (!own.ok() || own.failed()) return tl::unexpected(own.error());
  } else {
    Stmt front(impl_->db, "SELECT id FROM candidates WHERE task=? AND on_front=1 AND id<>? ORDER BY id");
    front.Bind(1, task).Bind(2, parent);
    while (front.Step()) pool.insert(front.Int(0));
    if (!front.ok() || front.failed()) return tl::unexpected(front.error());
    Stmt el(impl_->db, "SELECT candidate_id FROM elites WHERE task=? AND candidate_id<>? ORDER BY candidate_id");
    el.Bind(1, task).Bind(2, parent);
    while (el.Step()) pool.insert(el.Int(0));
    if (el.failed()) return tl::unexpected(el.error());
  }
  std::vector<std::int64_t> v(pool.begin(), pool.end());
  // Partial Fisher-Yates with our own draws.
  std::vector<std::int64_t> out;
  for (int i = 0; i < n && !v.empty(); ++i) {
    std::size_t j = static_cast<std::size_t>(Unit(rng) * static_cast<double>(v.size()));
    out.push_back(v[j]);
    v[j] = v.back();
    v.pop_back();
  }
  return out;
}

Result<int> Archive::Migrate(const std::string& task, int islands, const RunScope& scope) {
  if (islands < 2) return 0;
  int copies = 0;
  for (int i = 0; i < islands; ++i) {
    // An island sends its own best discovery (not one it received), so one
    // strong candidate does not flood the ring in a few rounds.
    auto best = TopMembers(impl_->db, task, i, 1, scope, /*home_only=*/true);
    if (!best) return tl::unexpected(best.error());
    if (best->empty()) continue;
    const int to = (i + 1) % islands;
    Stmt s(impl_->db,
           "INSERT OR IGNORE INTO migrations(candidate_id, from_island, to_island, created_at) "
           "SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM candidates WHERE id=? AND island=?)");
    s.Bind(1, best->front().id).Bind(2, i).Bind(3, to).Bind(4, internal::Now()).Bind(5, best->front().id).Bind(6, to);
    s.Step();
    if (s.failed()) return tl::unexpected(s.error());
    copies += sqlite3_changes(impl_->db) > 0;
  }
  return copies;
}

Result<std::vector<std::int64_t>> Archive::IslandMembers(const std::string& task, int island) {
  Stmt s(impl_->db,
         "SELECT id FROM candidates WHERE task=?1 AND island=?2 UNION SELECT m.candidate_id FROM migrations m CROSS JOIN "
         "candidates c ON c.id=m.candidate_id WHERE c.task=?1 AND m.to_island=?2 ORDER BY 1");
  s.Bind(1, task).Bind(2, island);
  std::vector<std::int64_t> out;
  while (s.Step()) out.push_back(s.Int(0));
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return out;
}

Result<std::vector<std::pair<std::string, std::int64_t>>> Archive::Elites(const std::string& task) {
  Stmt s(impl_->db, "SELECT cell, candidate_id FROM elites WHERE task=? ORDER BY cell");
  s.Bind(1, task);
  std::vector<std::pair<std::string, std::int64_t>> out;
  while (s.Step()) out.emplace_back(s.Text(0), s.Int(1));
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return out;
}

}  // namespace ergon::archive
