#include "engine/meta_summary.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/core.h>

namespace ergon::engine {
namespace {

constexpr std::size_t kShown = 3;  // changes listed each way

std::string Short(const std::string& s) {
  std::string t = s.substr(0, s.find('\n'));
  return t.size() > 160 ? t.substr(0, 157) + "..." : t;
}

}  // namespace

std::string MetaSummary(const std::vector<archive::ChildOutcome>& children,
                        const std::map<std::string, std::int64_t>& failure_stages, const std::string& metric) {
  if (children.empty()) return "";
  struct Move {
    double change;  // relative change of the minimised metric: < 0 helped
    const archive::ChildOutcome* c;
  };
  std::vector<Move> helped, hurt;
  int failed = 0, lost_gate = 0, gained_gate = 0;
  for (const auto& c : children) {
    if (c.status == archive::CandidateStatus::kFailed) {
      ++failed;
    } else if (c.parent_gate_passed && !c.gate_passed) {
      ++lost_gate;
    } else if (!c.parent_gate_passed && c.gate_passed) {
      ++gained_gate;
    } else if (c.fitness && c.parent_fitness && *c.parent_fitness != 0) {
      // fitness = -metric: the metric's relative change.
      const double change = (*c.fitness - *c.parent_fitness) / *c.parent_fitness;
      (change < 0 ? helped : hurt).push_back({change, &c});
    }
  }
  std::string s = fmt::format("Of the last {} children: {} beat their parent{}, {} did worse, {} lost the gate, {} failed to "
                              "build or run.\n",
                              children.size(), helped.size() + static_cast<std::size_t>(gained_gate),
                              gained_gate ? fmt::format(" ({} by passing the gate it missed)", gained_gate) : "",
                              hurt.size(), lost_gate, failed);
  auto list = [&](std::vector<Move>& v, const char* title, bool best_first) {
    std::sort(v.begin(), v.end(), [&](const Move& a, const Move& b) {
      return best_first ? a.change < b.change : a.change > b.change;
    });
    std::set<std::string> seen;
    std::string out;
    for (const auto& m : v) {
      const std::string intent = Short(m.c->intent);
      if (intent.empty() || !seen.insert(intent).second) continue;
      out += fmt::format("  - {} {:+.1f}%: \"{}\" (candidate {})\n", metric, 100 * m.change, intent, m.c->id);
      if (seen.size() >= kShown) break;
    }
    if (!out.empty()) s += std::string(title) + "\n" + out;
  };
  list(helped, "Changes that helped most:", true);
  list(hurt, "Changes that hurt most:", false);
  if (!failure_stages.empty()) {
    std::vector<std::pair<std::int64_t, std::string>> st;
    for (const auto& [stage, n] : failure_stages) st.push_back({n, stage});
    std::sort(st.rbegin(), st.rend());
    std::string f;
    for (const auto& [n, stage] : st) f += fmt::format("{}{} {}", f.empty() ? "" : ", ", n, stage);
    s += "Recent proposals that never became candidates: " + f + ".\n";
  }
  return s;
}

}  // namespace ergon::engine
