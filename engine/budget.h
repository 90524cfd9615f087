// When a run stops: its budgets and its circuit breaker, as a plain function
// of what the run has used so far. The search asks before each proposal;
// tests ask it directly.
#pragma once

#include <cstdint>
#include <string>

#include "archive/outcome.h"

namespace ergon::engine {

struct Budget {
  std::int64_t max_candidates = 10;
  double max_time_s = 0;  // 0: no limit (likewise below)
  double max_cost_usd = 0;
  std::int64_t max_tokens = 0;
};

// What the run has used, its earlier processes included (a resumed run).
struct Used {
  std::int64_t candidates = 0;
  double elapsed_s = 0, cost_usd = 0;
  std::int64_t tokens = 0;
  // This process's attempts, by outcome: the breaker counts those that left
  // no candidate.
  archive::OutcomeCounts outcomes;
  bool interrupted = false;  // Ctrl-C or SIGTERM
  bool stop_file = false;    // a STOP file appeared
};

// Why the run must stop now, in words for the user and the run's record
// ("--max-candidates 10 reached"), or "" while it may go on. `stop_file`
// names the STOP file in its reason.
std::string StopReason(const Budget& budget, const Used& used, const std::string& stop_file = "STOP");

}  // namespace ergon::engine
