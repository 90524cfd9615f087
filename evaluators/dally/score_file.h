// `ergon score FILE.ir`: compile, cost and simulate one IR file on a suite.
#pragma once

#include <cstdint>
#include <string>

namespace ergon::evaluators::dally {

// The official suites' folder inside ergon's data folder `home`.
inline std::string SuitesDirIn(const std::string& home) { return home + "/evaluators/dally_parity/suites"; }


// Every name --tier takes: the sparse-parity tiers (scored on a suite) and
// the checked boards (board.h), for help texts and errors.
constexpr const char* kTierNames = "small | medium | mask32 | matmul4x4 | matmul16x16 | symmetry6 | symmetry8";
bool IsTier(const std::string& name);

struct ScoreRequest {
  std::string path;
  std::string tier = "mask32";   // kTierNames (any matmulNxN, symmetryN)
  std::string suite = "fresh";   // fresh | dev | seeds (small/medium) | any other key (mask32)
  std::size_t instances = 0;     // 0 = the tier's default
  std::string suites_dir;        // where the dev suite files live
  bool profile = false;          // keep where the cost goes (IrCostProfile, its 8 hottest)
};

struct ScoreReport {
  bool ran = false;          // false: invalid IR or unreadable file (exit 1)
  std::string status = "ok"; // "ok" or the error, with its line
  std::string stage;         // where it failed: read | parse | suite | simulate ("" when it ran)
  std::string tier, suite;
  bool board = false;        // a checked board: metric 1 means exact, `instances` the patterns (0: symbolic)
  std::uint64_t cost = 0;
  double metric = 0;         // recovery (mask32) or accuracy (small/medium)
  std::size_t correct = 0;   // instances fully right
  std::size_t instances = 0, lines = 0;
  double read_s = 0, parse_s = 0, suite_s = 0, simulate_s = 0;  // the split of the work
  std::string profile;       // IrCostProfile::Json(8) when asked, else empty
};

ScoreReport ScoreFile(const ScoreRequest& request);
std::string ReportJson(const ScoreReport& r);
std::string ReportText(const ScoreReport& r);

}  // namespace ergon::evaluators::dally

namespace ergon::evaluators::dally {

struct OptimizeRequest {
  std::string in_path, out_path;
  std::string tier = "mask32";
  std::string suites_dir;
  std::size_t fresh_instances = 2048;  // verified on dev + this many fresh
  bool verify = true;  // false: written unverified (ergon's own transformation, whose result is scored next)
  bool flow = true;    // false: no min-cost flow layout nor lower bound (seconds on 50,000-line programs)
  // Annealing moves over instruction order and copies (reschedule.h), for
  // programs of at most 1,500 ops; 0: layout only.
  std::uint64_t moves = 5000;
  // Annealing moves over the program as written (placed_anneal.h), any size;
  // 0: none.
  std::uint64_t placed_moves = 200000;
  std::uint64_t seed = 1;
};

struct OptimizeReport {
  bool ok = false;
  std::string status = "ok";
  std::uint64_t cost_before = 0, cost_after = 0;
  std::size_t lines_before = 0, lines_after = 0, dead_ops = 0;
  std::size_t verified_instances = 0;  // outputs compared equal on these (boards: patterns; 0 for matmul)
  bool checked = false;                // a board's checker passed the result
  bool rescheduled = false;            // the result's order or copies differ from the input's
  std::uint64_t search_moves = 0;      // annealing moves tried (reschedule.h)
  std::uint64_t placed_moves = 0;      // moves tried on the program as written (placed_anneal.h)
  std::uint64_t lower_bound = 0;       // no layout of the result's order costs less (0: not computed)
  double seconds = 0;
  // Where the seconds went: reading the file, compiling it, the optimiser's
  // passes, compiling its output back, building the verification suites,
  // simulating both programs on them, and writing the result.
  double read_s = 0, parse_s = 0, optimize_s = 0, reparse_s = 0, suites_s = 0, verify_s = 0, write_s = 0;
};

// Optimises, verifies equal outputs on every instance of the dev suite and
// a fresh one (a board: passes its checker), and only then writes out_path.
// The result never costs more than the input.
OptimizeReport OptimizeFile(const OptimizeRequest& request);

// The report as one JSON object (`ergon optimize-ir --json`), with the
// seconds' split under "split".
std::string OptimizeJson(const OptimizeReport& r);

}  // namespace ergon::evaluators::dally
