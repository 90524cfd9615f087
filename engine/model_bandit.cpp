#include "engine/model_bandit.h"

#include <cmath>

namespace ergon::engine {

namespace {
constexpr double kExplore = 0.1;
}  // namespace

ModelBandit::ModelBandit(std::vector<std::string> names) {
  for (auto& n : names) arms_.push_back({std::move(n), 0, 0, 0});
}

void ModelBandit::Restore(const std::string& name, std::int64_t calls, std::int64_t wins, double cost_usd) {
  const std::size_t i = Find(name);
  if (i == arms_.size()) return;
  arms_[i].calls = calls;
  arms_[i].wins = wins;
  arms_[i].cost_usd = cost_usd;
}

std::size_t ModelBandit::Find(const std::string& name) const {
  for (std::size_t i = 0; i < arms_.size(); ++i)
    if (arms_[i].name == name) return i;
  return arms_.size();
}

std::size_t ModelBandit::Choose(std::mt19937_64& rng) {
  const std::size_t n = arms_.size();
  std::size_t pick = 0;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  bool chosen = false;
  for (std::size_t i = 0; i < n && !chosen; ++i)
    if (arms_[i].calls == 0) {
      pick = i;
      chosen = true;
    }
  if (!chosen && n > 1 && unit(rng) < kExplore) {
    pick = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
    chosen = true;
  }
  if (!chosen) {
    std::int64_t total = 0;
    double spend = 0;
    for (const auto& a : arms_) {
      total += a.calls;
      spend += a.cost_usd;
    }
    const bool priced = spend > 0;
    double mean_cost = 0;
    for (const auto& a : arms_) mean_cost += priced ? a.cost_usd / static_cast<double>(a.calls) : 1.0;
    mean_cost /= static_cast<double>(n);
    double best = -1;
    for (std::size_t i = 0; i < n; ++i) {
      const Arm& a = arms_[i];
      const double calls = static_cast<double>(a.calls);
      const double value = (static_cast<double>(a.wins) + 0.5) / (calls + 1);
      const double bonus = std::sqrt(std::log(static_cast<double>(total) + 1) / calls);
      // A call that cost nothing (a local model) counts as a tenth of the mean.
      const double cost = priced ? std::max(a.cost_usd / calls, mean_cost * 0.1) : 1.0;
      const double score = (value + bonus) / (cost / mean_cost);
      if (score > best) {
        best = score;
        pick = i;
      }
    }
  }
  return pick;
}

}  // namespace ergon::engine
