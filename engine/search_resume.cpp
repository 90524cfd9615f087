// `ergon run --resume`: what a resumed run keeps of its stored settings
// (budgets, executor, strategy), and what flags given again replace.
#include <algorithm>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "engine/search_loop.h"

namespace ergon::engine::search {

namespace {
using json = nlohmann::json;
}  // namespace

// --resume: the run's stored budgets hold, except those given again now
// (which replace them, and are stored).
void Search::KeepStoredBudgets(archive::Archive& db, const std::string& settings) {
  json st = json::parse(settings, nullptr, false);
  if (!st.is_object()) return;
  auto given = [&](const char* flag) { return std::find(o_.given.begin(), o_.given.end(), flag) != o_.given.end(); };
  bool changed = false;
  auto keep = [&](const char* flag, const char* key, auto& field) {
    using T = std::decay_t<decltype(field)>;
    if (given(flag)) {
      changed = changed || !st.contains(key) || st[key] != json(field);
      st[key] = field;
    } else if (st.contains(key) && st[key].is_number()) {
      field = st[key].get<T>();
    }
  };
  keep("--max-candidates", "max_candidates", o_.max_candidates);
  keep("--max-time", "max_time_s", o_.max_time_s);
  keep("--max-cost", "max_cost_usd", o_.max_cost_usd);
  keep("--max-tokens", "max_tokens", o_.max_tokens);
  if (changed)
    if (auto stored = db.UpdateRunSettings(s_.run_id, st.dump()); !stored)
      fmt::print(stderr, "ergon run: note: the new budgets were not stored with run {}: {}\n", s_.run_id,
                 stored.error());
  fmt::print(stderr, "ergon run: budgets of run {}: {}\n", s_.run_id, BudgetLine());
}

// --resume: the run's strategy and scope hold (a study's arm must not change
// half-way); giving another is a usage error.
int Search::KeepStoredStrategy(const std::string& settings) {
  const json st = json::parse(settings, nullptr, false);
  if (!st.is_object()) return 0;
  auto given = [&](const char* flag) { return std::find(o_.given.begin(), o_.given.end(), flag) != o_.given.end(); };
  const auto stored = ParseStrategy(st.value("strategy", "evolve")).value_or(Strategy::kEvolve);
  const bool isolated = st.value("isolated", false);
  if ((given("--strategy") && o_.strategy != stored) || (given("--isolated") && o_.isolated != isolated)) {
    fmt::print(stderr, "ergon run: run {} was started with --strategy {}{}; a resumed run keeps them\n", s_.run_id,
               StrategyName(stored), isolated ? " --isolated" : "");
    return 2;
  }
  o_.strategy = stored;
  o_.isolated = isolated;
  if (st.contains("study") && st["study"].is_object()) o_.study = st["study"].value("name", "");
  return 0;
}

// --resume: the run's executor and its options hold unless given again, so
// that a cluster run finds its spool (and the jobs a crash left there).
void Search::KeepStoredExecutor(const std::string& settings) {
  const json st = json::parse(settings, nullptr, false);
  if (!st.is_object() || st.value("executor", "local") != "slurm") return;
  auto given = [&](const char* flag) { return std::find(o_.given.begin(), o_.given.end(), flag) != o_.given.end(); };
  if (given("--executor") && o_.executor != "slurm") {
    fmt::print(stderr, "ergon run: run {} was started with --executor slurm; resumed locally, so jobs its last "
               "process left in the spool are not collected\n", s_.run_id);
    return;
  }
  o_.executor = "slurm";
  const json sl = st.value("slurm", json::object());
  auto keep = [&](const char* flag, const char* key, std::string& field) {
    if (!given(flag) && sl.contains(key) && sl[key].is_string()) field = sl[key].get<std::string>();
  };
  keep("--spool", "spool", o_.spool);
  keep("--slurm-partition", "partition", o_.slurm_partition);
  keep("--slurm-gres", "gres", o_.slurm_gres);
  keep("--slurm-args", "args", o_.slurm_args);
  if (!given("--slurm-submissions") && sl.contains("submissions") && sl["submissions"].is_number_integer())
    o_.slurm_submissions = sl["submissions"].get<int>();
  fmt::print(stderr, "ergon run: run {} evaluates through Slurm (spool {}), as it was started\n", s_.run_id, o_.spool);
}

}  // namespace ergon::engine::search
