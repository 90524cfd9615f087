#include "engine/budget.h"

#include <algorithm>

#include <fmt/core.h>

namespace ergon::engine {

std::string StopReason(const Budget& b, const Used& u, const std::string& stop_file) {
  if (u.interrupted) return "interrupted (Ctrl-C)";
  if (u.stop_file) return fmt::format("{} appeared", stop_file);
  if (u.candidates >= b.max_candidates) return fmt::format("--max-candidates {} reached", b.max_candidates);
  if (b.max_time_s > 0 && u.elapsed_s >= b.max_time_s) return fmt::format("--max-time {:.0f}s reached", b.max_time_s);
  if (b.max_cost_usd > 0 && u.cost_usd >= b.max_cost_usd) return fmt::format("--max-cost ${:.2f} reached", b.max_cost_usd);
  if (b.max_tokens > 0 && u.tokens >= b.max_tokens) return fmt::format("--max-tokens {} reached", b.max_tokens);
  // Attempts that never become candidates are bounded too: at most 10 per
  // candidate asked for, so a broken agent cannot spin for ever. (A run
  // without a candidate limit: 10 per candidate made so far, plus 10.)
  const std::int64_t asked = std::min(b.max_candidates, u.candidates + 10);
  using archive::Outcome;
  const std::int64_t wasted = u.outcomes[Outcome::kInvalid] + u.outcomes[Outcome::kDidNotRun] +
                              u.outcomes[Outcome::kDuplicate] + u.outcomes[Outcome::kNotNovel];
  if (wasted > 10 * std::max<std::int64_t>(asked, 1) + 20) return "too many failed attempts (circuit breaker)";
  return "";
}

}  // namespace ergon::engine
