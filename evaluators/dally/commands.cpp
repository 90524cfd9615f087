#include "evaluators/dally/commands.h"

#include <cmath>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "evaluators/dally/score_file.h"

namespace ergon::evaluators::dally {
namespace {

// --tier: a sparse-parity tier or a checked board.
const CLI::Validator& TierNames() {
  static const CLI::Validator v(
      [](std::string& t) { return IsTier(t) ? std::string() : fmt::format("unknown tier '{}' ({})", t, kTierNames); },
      "TIER");
  return v;
}

int Score(ScoreRequest q, const TaskCommandContext& ctx) {
  auto home = ctx.home();
  if (home) q.suites_dir = SuitesDirIn(*home);
  if (q.suite == "dev" && !home) {
    fmt::print(stderr, "ergon score: {}\n", home.error());
    return 1;
  }
  auto r = ScoreFile(q);
  if (*ctx.json) fmt::print("{}\n", ReportJson(r));
  else if (r.ran) fmt::print("{}\n", ReportText(r));
  else fmt::print(stderr, "ergon score: {}: {}\n", q.path, r.status);
  return r.ran ? 0 : 1;
}

std::function<int()> DeclareScore(CLI::App& sub, const TaskCommandContext& ctx) {
  auto q = std::make_shared<ScoreRequest>();
  sub.add_option("file", q->path, "IR file")->required();
  sub.add_option("--tier", q->tier,
                 fmt::format("{} (default mask32; any matmulNxN or symmetryN: checked exactly, no suite)", kTierNames))
      ->check(TierNames());
  sub.add_option("--suite", q->suite,
                 "fresh (default: new secret instances) | dev (the group's official suite; seeds 0..63 for "
                 "small/medium) | seeds | any other key (mask32: a deterministic keyed suite)");
  sub.add_option("--instances", q->instances, "instances (default: mask32 2048, small 64, medium 8)")
      ->check(CLI::Range(1, 1 << 20));
  sub.add_flag("--profile", q->profile, "with --json: where the cost goes (by operation, address band, hottest addresses)");
  sub.add_flag("--json", *ctx.json, "print one JSON object");
  return [q, ctx] { return Score(*q, ctx); };
}

void PrintOptimized(const OptimizeRequest& q, const OptimizeReport& r) {
  const std::string verified =
      !q.verify ? std::string("NOT verified (--no-verify)")
      : r.checked ? fmt::format("passes the {} checker", q.tier)
                  : fmt::format("outputs identical on {} instances (official + fresh)", r.verified_instances);
  fmt::print("cost {} -> {} ({:.3f}x lower), lines {} -> {} ({} dead ops removed); {}; wrote {} in {:.2f} s\n",
             r.cost_before, r.cost_after, static_cast<double>(r.cost_before) / static_cast<double>(r.cost_after),
             r.lines_before, r.lines_after, r.dead_ops, verified, q.out_path, r.seconds);
  if (r.rescheduled)
    fmt::print("instruction order and copies changed by the search ({} moves by layout, {} as written)\n",
               r.search_moves, r.placed_moves);
  if (r.lower_bound)
    fmt::print("no address layout of the input's instruction order costs less than {} (the result is {:.2f}% {})\n",
               r.lower_bound,
               100.0 * std::abs(static_cast<double>(r.cost_after) - static_cast<double>(r.lower_bound)) /
                   static_cast<double>(r.lower_bound),
               r.cost_after >= r.lower_bound ? "above" : "below: a new order");
}

int OptimizeIr(OptimizeRequest q, const TaskCommandContext& ctx) {
  auto home = ctx.home();
  if (!home) {
    fmt::print(stderr, "ergon optimize-ir: {}\n", home.error());
    return 1;
  }
  q.suites_dir = SuitesDirIn(*home);
  auto r = OptimizeFile(q);
  if (*ctx.json) fmt::print("{}\n", OptimizeJson(r));
  if (!r.ok) {
    fmt::print(stderr, "ergon optimize-ir: {}\n", r.status);
    return 1;
  }
  if (!*ctx.json) PrintOptimized(q, r);
  return 0;
}

std::function<int()> DeclareOptimizeIr(CLI::App& sub, const TaskCommandContext& ctx) {
  auto q = std::make_shared<OptimizeRequest>();
  sub.add_option("file", q->in_path, "input IR")->required();
  sub.add_option("-o,--output", q->out_path, "output IR (written only after verification)")->required();
  sub.add_option("--tier", q->tier,
                 fmt::format("{} (default mask32; a board's result must pass its checker)", kTierNames))
      ->check(TierNames());
  sub.add_option_function<std::string>(
         "--layout", [q](const std::string& v) { q->flow = v == "flow"; },
         "flow (default: adds the tier-by-tier min-cost flow layout and the order's lower bound; seconds on "
         "50,000 lines) | fast (the greedy layouts alone)")
      ->check(CLI::IsMember({"flow", "fast"}));
  sub.add_option("--moves", q->moves,
                 "annealing moves over instruction order, copies and sums, each state priced by a flow layout "
                 "(programs of at most 1,500 ops; about 0.3 ms each at 100 ops; 0: none)")
      ->capture_default_str();
  sub.add_option("--placed-moves", q->placed_moves,
                 "annealing moves over the program as written: addresses, op order and copies together, each "
                 "priced by what it changes (any size; about 5 us each on 10,000 ops, 20 us on 60,000; 0: none)")
      ->capture_default_str();
  sub.add_option("--seed", q->seed, "the search's seed (the same seed, the same result)")->capture_default_str();
  sub.add_option("--fresh", q->fresh_instances, "fresh instances to verify on besides the official ones")
      ->check(CLI::Range(0, 1 << 20));
  sub.add_flag_callback("--no-verify", [q] { q->verify = false; },
                        "write without comparing outputs (what ergon's own transformation does: the evaluation "
                        "that follows scores the program anyway)");
  sub.add_flag("--json", *ctx.json, "print one JSON object");
  return [q, ctx] { return OptimizeIr(*q, ctx); };
}

}  // namespace

std::vector<TaskCommand> Commands() {
  return {
      {"score", "score a Dally IR program: static cost, and recovery/accuracy on a suite", DeclareScore},
      {"optimize-ir", "lower an IR program's cost without changing its function (verified)", DeclareOptimizeIr},
  };
}

}  // namespace ergon::evaluators::dally
