#include "evaluators/dally/score_file.h"

#include <chrono>
#include <fstream>
#include <future>
#include <random>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "evaluators/dally/board.h"
#include "evaluators/dally/ir.h"
#include "evaluators/dally/mask32.h"
#include "evaluators/dally/tiers.h"
#include "base/file.h"

namespace ergon::evaluators::dally {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A checked board's score, from the compiled program: its checker, no suite.
ScoreReport CheckBoardReport(const Board& board, const IrProgram& prog, ScoreReport r) {
  auto t1 = Clock::now();
  auto checked = CheckBoard(board, prog);
  r.simulate_s = Since(t1);
  if (!checked) {
    r.status = checked.error().Describe();
    r.stage = "check";
    return r;
  }
  r.metric = 1;
  r.correct = r.instances = checked->patterns;
  r.ran = true;
  return r;
}

}  // namespace

bool IsTier(const std::string& name) {
  return name == "small" || name == "medium" || name == "mask32" || ParseBoard(name).has_value();
}

ScoreReport ScoreFile(const ScoreRequest& q) {
  ScoreReport r;
  r.tier = q.tier;
  r.suite = q.suite;
  auto t_read = Clock::now();
  const auto text = base::ReadFile(q.path);
  r.read_s = Since(t_read);
  if (!text) {
    r.status = fmt::format("cannot read {}", q.path);
    r.stage = "read";
    return r;
  }
  if (!IsTier(q.tier)) {
    r.status = fmt::format("unknown tier '{}' ({})", q.tier, kTierNames);
    return r;
  }
  const std::optional<Board> board = ParseBoard(q.tier);
  if (board) {
    r.board = true;
    r.suite = "";
  }
  const bool mask = q.tier == "mask32";
  const TierSpec& tier = q.tier == "small" ? kSmall : kMedium;
  auto t0 = Clock::now();
  IrCostProfile profile;
  auto prog = CompileIr(*text, mask || board ? kMask32LineCap : kSmallMediumLineCap, q.profile ? &profile : nullptr);
  r.parse_s = Since(t0);
  if (!prog) {
    r.status = prog.error().Describe();
    r.stage = "parse";
    return r;
  }
  r.cost = prog->cost;
  r.lines = prog->lines;
  if (q.profile) r.profile = profile.Json(8);
  if (board) return CheckBoardReport(*board, *prog, r);

  if (mask) {
    auto t_suite = Clock::now();
    auto suite = MakeMaskSuite(q.suite, q.instances, q.suites_dir);
    r.suite_s = Since(t_suite);
    if (!suite) {
      r.status = suite.error();
      r.stage = "suite";
      return r;
    }
    auto t1 = Clock::now();
    auto sc = ScoreMask32(*prog, *suite);
    r.simulate_s = Since(t1);
    if (!sc) {
      r.status = sc.error().Describe();
      r.stage = "simulate";
      return r;
    }
    r.metric = sc->recovery;
    r.correct = sc->correct;
    r.instances = sc->instances;
  } else {
    std::size_t n = q.instances ? q.instances : (q.suite == "dev" ? 64 : static_cast<std::size_t>(tier.seeds));
    auto t_suite = Clock::now();
    std::vector<TierInstance> insts;
    std::random_device rd;
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t seed = (q.suite == "dev" || q.suite == "seeds")
                               ? i
                               : (static_cast<std::uint64_t>(rd()) << 32 | rd());
      insts.push_back(GenerateTierInstance(tier, seed));
    }
    r.suite_s = Since(t_suite);
    if (q.suite != "dev" && q.suite != "seeds" && q.suite != "fresh") {
      r.status = fmt::format("unknown suite '{}' for tier {} (use fresh, dev or seeds)", q.suite, q.tier);
      return r;
    }
    auto t1 = Clock::now();
    auto sc = ScoreTier(*prog, tier, insts);
    r.simulate_s = Since(t1);
    if (!sc) {
      r.status = sc.error().Describe();
      return r;
    }
    r.metric = sc->accuracy;
    r.correct = sc->exact;
    r.instances = sc->instances;
  }
  r.ran = true;
  return r;
}

std::string ReportJson(const ScoreReport& r) {
  nlohmann::json j;
  j["status"] = r.status;
  if (!r.stage.empty()) j["stage"] = r.stage;
  j["tier"] = r.tier;
  j["cost"] = r.cost;
  j["lines"] = r.lines;
  j["parse_s"] = r.parse_s;
  if (!r.profile.empty()) j["profile"] = nlohmann::json::parse(r.profile);
  if (r.board) {
    j["exact"] = r.ran;
    j["patterns"] = r.instances;
    j["check_s"] = r.simulate_s;
    return j.dump();
  }
  j["suite"] = r.suite;
  j[r.tier == "mask32" ? "recovery" : "accuracy"] = r.metric;
  j["correct"] = r.correct;
  j["instances"] = r.instances;
  j["read_s"] = r.read_s;
  j["suite_s"] = r.suite_s;
  j["simulate_s"] = r.simulate_s;
  return j.dump();
}

std::string ReportText(const ScoreReport& r) {
  if (!r.ran) return "invalid: " + r.status;
  if (r.board)
    return fmt::format("cost {}  exact: {}{}  lines {}  parse {:.1f} ms  check {:.1f} ms", WithCommas(r.cost),
                       ParseBoard(r.tier)->Describe(),
                       r.instances ? fmt::format(", right on all {}", r.instances) : std::string(", checked at a secret random point"),
                       WithCommas(r.lines), r.parse_s * 1e3, r.simulate_s * 1e3);
  return fmt::format("cost {}  {} {:.6f} ({}/{} instances {})  lines {}  suite {}  parse {:.1f} ms  suite {:.1f} ms  simulate {:.1f} ms",
                     WithCommas(r.cost), r.tier == "mask32" ? "recovery" : "accuracy", r.metric, r.correct, r.instances,
                     r.tier == "mask32" ? "recovered" : "exact", WithCommas(r.lines), r.suite, r.parse_s * 1e3,
                     r.suite_s * 1e3, r.simulate_s * 1e3);
}

}  // namespace ergon::evaluators::dally

#include "evaluators/dally/optimize.h"
#include "evaluators/dally/placed_anneal.h"
#include "evaluators/dally/reschedule.h"

namespace ergon::evaluators::dally {

OptimizeReport OptimizeFile(const OptimizeRequest& q) {
  OptimizeReport r;
  if (!IsTier(q.tier)) {
    r.status = fmt::format("unknown tier '{}' ({})", q.tier, kTierNames);
    return r;
  }
  const std::optional<Board> board = ParseBoard(q.tier);
  auto t0 = Clock::now();
  // The fresh verification suite does not depend on the program: it is drawn
  // on another thread while the program is read and optimised.
  const bool mask = q.tier == "mask32";
  std::future<tl::expected<MaskSuite, std::string>> fresh_suite;
  if (mask && q.verify && q.fresh_instances > 0)
    fresh_suite = std::async(std::launch::async, FreshMaskSuite, static_cast<int>((q.fresh_instances + 7) / 8), 8);
  std::ifstream f(q.in_path, std::ios::binary);
  if (!f) {
    r.status = fmt::format("cannot read {}", q.in_path);
    return r;
  }
  std::stringstream text;
  text << f.rdbuf();
  auto step = t0;
  auto lap = [&step] {  // seconds since the last lap
    auto now = Clock::now();
    double s = std::chrono::duration<double>(now - step).count();
    step = now;
    return s;
  };
  r.read_s = lap();
  const std::size_t cap = mask || board ? kMask32LineCap : kSmallMediumLineCap;
  auto before = CompileIr(text.str(), cap);
  r.parse_s = lap();
  if (!before) {
    r.status = before.error().Describe();
    return r;
  }
  // A board's input must pass its checker: optimising a wrong program
  // would only hide where it is wrong.
  if (board)
    if (auto ok = CheckBoard(*board, *before); !ok) {
      r.status = "the input is not a correct " + board->Name() + " program: " + ok.error().Describe();
      return r;
    }
  OptimizeOptions options;
  options.fixed_inputs = board && board->FixedInputs();
  if (!q.flow) options.flow_max_ops = 0;
  OptimizeStats st;
  std::string out = OptimizeIr(*before, &st, options);
  // Rescheduling and copies, for programs small enough to search: kept
  // only where cheaper than the layout alone.
  if (q.moves > 0) {
    RescheduleOptions search;
    search.moves = q.moves;
    search.seed = q.seed;
    search.fixed_inputs = options.fixed_inputs;
    RescheduleStats rs;
    if (auto found = Reschedule(*before, search, &rs); found && rs.cost_after < st.cost_after) {
      out = std::move(*found);
      r.rescheduled = true;
    }
    r.search_moves = rs.moves;
  }
  // Then annealing over the result as written: it moves ops, copies and
  // addresses together, so it can go below the order's layout bound.
  if (q.placed_moves > 0)
    if (auto laid = CompileIr(out, cap)) {
      PlacedAnnealOptions search;
      search.moves = q.placed_moves;
      search.seed = q.seed;
      search.fixed_inputs = options.fixed_inputs;
      search.temp_first = 0.5;  // from a laid-out program: stay near it
      search.temp_last = 0.02;
      PlacedAnnealStats ps;
      if (auto found = AnnealPlaced(*laid, search, &ps)) {
        out = std::move(*found);
        r.rescheduled = r.rescheduled || ps.reorders + ps.copies_added + ps.copies_dropped > 0;
      }
      r.placed_moves = ps.moves;
    }
  r.optimize_s = lap();
  auto after = CompileIr(out, cap);
  r.reparse_s = lap();
  if (!after) {
    r.status = "internal error: the optimised IR does not compile: " + after.error().Describe();
    return r;
  }
  r.cost_before = before->cost;
  r.cost_after = after->cost;
  r.lines_before = before->lines;
  r.lines_after = after->lines;
  r.dead_ops = st.dead_ops;
  r.lower_bound = st.lower_bound;

  // The last step, verified or not: the file, whole.
  auto write = [&] {
    std::ofstream o(q.out_path, std::ios::binary | std::ios::trunc);
    o << out;
    o.close();
    if (!o) {
      r.status = fmt::format("cannot write {}", q.out_path);
      return r;
    }
    r.write_s = lap();
    r.ok = true;
    r.seconds = Since(t0);
    return r;
  };
  if (!q.verify) return write();
  if (board) {
    auto ok = CheckBoard(*board, *after);
    if (!ok) {
      r.status = "internal error: the optimised program fails the checker; nothing written: " + ok.error().Describe();
      return r;
    }
    r.checked = true;
    r.verified_instances = ok->patterns;
    r.verify_s = lap();
    return write();
  }
  // Verification inputs: the official suite plus fresh instances.
  std::vector<std::int8_t> inputs;
  std::size_t n = 0;
  if (mask) {
    auto dev = LoadMaskSuite(q.suites_dir + "/mask32_dev_inputs.txt", q.suites_dir + "/mask32_dev_masks.txt");
    if (!dev) {
      r.status = dev.error();
      return r;
    }
    inputs = dev->inputs;
    n = dev->instances;
    if (fresh_suite.valid()) {
      auto fresh = fresh_suite.get();
      if (!fresh) {
        r.status = fresh.error();
        return r;
      }
      inputs.insert(inputs.end(), fresh->inputs.begin(), fresh->inputs.end());
      n += fresh->instances;
    }
  } else {
    const TierSpec& tier = q.tier == "small" ? kSmall : kMedium;
    std::random_device rd;
    for (std::size_t i = 0; i < 64 + q.fresh_instances; ++i) {
      std::uint64_t seed = i < 64 ? i : (static_cast<std::uint64_t>(rd()) << 32 | rd());
      auto inst = GenerateTierInstance(tier, seed);
      inputs.insert(inputs.end(), inst.inputs.begin(), inst.inputs.end());
      ++n;
    }
  }
  r.suites_s = lap();
  if (before->input_slots.size() * n != inputs.size()) {
    r.status = fmt::format("IR declares {} inputs; the {} tier needs {}", before->input_slots.size(), q.tier,
                           inputs.size() / n);
    return r;
  }
  auto a = SimulateBatch(*before, inputs, n);
  auto b = SimulateBatch(*after, inputs, n);
  if (!a || !b || *a != *b) {
    r.status = !a ? "the input IR fails at run time: " + a.error().Describe()
                  : "internal error: optimised outputs differ; nothing written";
    return r;
  }
  r.verified_instances = n;
  r.verify_s = lap();
  return write();
}

std::string OptimizeJson(const OptimizeReport& r) {
  const nlohmann::json j = {
      {"status", r.ok ? "ok" : "error"}, {"cost_before", r.cost_before}, {"cost_after", r.cost_after},
      {"lines_before", r.lines_before}, {"lines_after", r.lines_after}, {"dead_ops", r.dead_ops},
      {"verified_instances", r.verified_instances}, {"checked", r.checked}, {"rescheduled", r.rescheduled},
      {"search_moves", r.search_moves}, {"placed_moves", r.placed_moves}, {"lower_bound", r.lower_bound},
      {"seconds", r.seconds},
      {"split", {{"read_s", r.read_s}, {"parse_s", r.parse_s}, {"optimize_s", r.optimize_s},
                 {"reparse_s", r.reparse_s}, {"suites_s", r.suites_s}, {"verify_s", r.verify_s},
                 {"write_s", r.write_s}}}};
  return j.dump();
}

}  // namespace ergon::evaluators::dally
