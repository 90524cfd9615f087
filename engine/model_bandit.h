// ModelBandit: which model makes the next proposal, when a run has several.
//
// Each model is an arm. Its reward is a win: a call whose child passed the
// gate and beat its parent (or passed where the parent did not). The policy,
// cost-aware UCB:
//   value_i = (wins_i + 0.5) / (calls_i + 1)            smoothed win rate
//   bonus_i = sqrt(ln(N + 1) / calls_i)                  optimism for the little-tried
//   score_i = (value_i + bonus_i) / (cost_i / mean cost) wins per dollar, in effect
// where cost_i is the arm's dollars per call (every arm counts 1 when no
// call has a price). An arm never called goes first; and with probability
// 0.1 the pick is uniform (the floor of exploration, so a model that was
// unlucky early is tried again).
//
// The state is what the archive's ledger says of the run (calls, spend,
// wins per model), so it survives kill -9 and --resume with nothing of its
// own to save.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace ergon::engine {

class ModelBandit {
 public:
  struct Arm {
    std::string name;  // as the ledger names it: agent/model
    std::int64_t calls = 0, wins = 0;
    double cost_usd = 0;
  };

  explicit ModelBandit(std::vector<std::string> names);

  // Sets an arm's totals (from the archive, on start and on --resume).
  void Restore(const std::string& name, std::int64_t calls, std::int64_t wins, double cost_usd);
  // The arm for the next proposal.
  std::size_t Choose(std::mt19937_64& rng);
  // Each call as it starts (a proposal's repair turns are calls too), its
  // price once known, and a win once its child is measured.
  void AddCall(std::size_t arm) { ++arms_[arm].calls; }
  void AddCost(std::size_t arm, double usd) { arms_[arm].cost_usd += usd; }
  void AddWin(std::size_t arm) { ++arms_[arm].wins; }

  const std::vector<Arm>& arms() const { return arms_; }
  std::size_t Find(const std::string& name) const;  // arms().size() when absent

 private:
  std::vector<Arm> arms_;
};

}  // namespace ergon::engine
