// `ergon run`: the progress line and the summary a run ends with.
#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "engine/evaluate.h"
#include "engine/search_loop.h"

namespace ergon::engine::search {

int Search::Summarise() {
  const double wall = std::chrono::duration<double>(Clock::now() - t0_).count();
  // The workers and the recorder are joined: the counters are final, and the
  // archive connection is this thread's again.
  bool fatal;
  std::string stop_reason;
  std::int64_t new_candidates, calls, infrastructure;
  double cost, eval_s, agent_s, engine_s;
  {
    base::MutexLock l(&s_.mu);
    fatal = s_.fatal;
    stop_reason = s_.stop_reason;
    new_candidates = s_.new_candidates;
    calls = s_.calls;
    infrastructure = s_.infrastructure;
    cost = s_.cost;
    eval_s = s_.eval_s;
    agent_s = s_.agent_s;
    engine_s = s_.engine_s;
  }
  archive::Archive& db = recorder_->Direct();
  archive::Attempt tick;
  tick.events.push_back({s_.run_id, "elapsed", std::nullopt, fmt::format("{:.3f}", ElapsedS())});
  tick.events.push_back({s_.run_id, fatal ? "fatal" : "budget_stop", std::nullopt, stop_reason});
  if (auto r = db.Record(tick); !r)
    fmt::print(stderr, "ergon run: could not record run {}'s time and stop in {}: {}\n", s_.run_id, o_.db, r.error());
  // Stopped by hand (Ctrl-C, STOP) or by the clock: --resume continues it.
  const bool by_hand = Interrupts() > 0 || stop_reason.find("STOP") != std::string::npos;
  const bool out_of_time = stop_reason.find("--max-time") != std::string::npos;
  using archive::RunStatus;
  const RunStatus status = fatal ? RunStatus::kFailed : (by_hand || out_of_time ? RunStatus::kStopped : RunStatus::kDone);
  if (auto ended = db.EndRun(s_.run_id, status, status == RunStatus::kDone ? "" : stop_reason); !ended)
    fmt::print(stderr, "ergon run: could not mark run {} {} in {}: {}\n", s_.run_id, archive::StatusName(status), o_.db,
               ended.error());
  {
    base::MutexLock l(&s_.mu);
    Progress(true);
  }
  fmt::print(stderr, "\nergon run: {}: {}\n", fatal ? "FAILED" : "stopped",
             stop_reason.empty() ? "budget reached" : stop_reason);
  // The whole run's outcomes (a resumed run's earlier part too), counted by
  // the archive as `archive runs` and the dashboard count them.
  auto outcomes = db.Outcomes(s_.run_id);
  fmt::print("run {} ({}, agent {}): {} new candidates; the run in all: {}; {} agent calls, ${:.4f}, wall {:.1f}s\n",
             s_.run_id, o_.task, o_.agent, new_candidates,
             outcomes ? (*outcomes)[s_.run_id].Line() : "outcomes unknown: " + outcomes.error(), calls, cost,
             wall);
  if (auto re = db.ReintroducedByModel(s_.run_id); re && !re->empty()) {
    // Lines added back after an ancestor's change deleted them.
    std::int64_t n = 0, with = 0, lines = 0;
    std::string by;
    for (const auto& m : *re) {
      n += m.candidates;
      with += m.with;
      lines += m.lines;
      by += fmt::format("; {}: {} in {} of {}", m.model.empty() ? "no agent call" : m.model, m.lines, m.with,
                        m.candidates);
    }
    fmt::print("re-introduced code: {} line(s) in {} of {} candidates{}\n", lines, with, n, re->size() > 1 ? by : "");
  }
  if (o_.executor == "slurm") {
    const ExecutorCounts c = executor_->Counts();
    fmt::print("slurm: {} job(s) done, {} resubmitted after infrastructure failures, {} evaluation(s) lost to the "
               "infrastructure (not counted against the candidates)\n", c.done, c.resubmitted, infrastructure);
  }
  if (fallbacks_ > 0)
    fmt::print("fallback: the {} agent failed repeatedly; {} time(s) the next 5 proposals went to the offline agent "
               "(--fallback-offline)\n", o_.agent, fallbacks_);
  fmt::print("time: evaluations {:.1f}s over {} slot(s) ({:.0f}% busy), agent calls {:.1f}s; engine work (sampling, "
             "prompts, edits, recording) {:.2f}s = {:.1f}% of wall time\n",
             eval_s, evaluators_, 100.0 * eval_s / (wall * evaluators_), agent_s, engine_s, 100.0 * engine_s / wall);
  if (baseline_ && baseline_->best)
    fmt::print("baseline: candidate {}  {}\n", baseline_->candidate.id, DescribeMetrics(task_->spec(), baseline_->best));
  PrintBest(db);
  if (parts_.bandit_at_end) {
    base::MutexLock l(&s_.mu);
    if (bandit_) *parts_.bandit_at_end = bandit_->arms();
  }
  if (auto led = db.Ledger())
    for (const auto& l : *led)
      if (l.run_id == s_.run_id)
        fmt::print("spend: {}  {} calls  {} tokens in  {} out  ${:.4f}  {} failed  {} wins\n", l.model, l.calls,
                   l.tokens_in, l.tokens_out, l.cost_usd, l.failures, l.wins);
  const std::string db_flag = o_.db == "ergon.db" ? "" : " --db " + o_.db;
  fmt::print("inspect: ergon archive top --task {}{}   |   ergon archive lineage ID{}   |   ergon replay ID{}\n", o_.task,
             db_flag, db_flag, db_flag);
  if (!fatal && (by_hand || out_of_time)) fmt::print("resume:  ergon run --resume {}{}\n", s_.run_id, db_flag);
  if (fatal) return 1;
  return Interrupts() > 0 ? 130 : 0;
}

// The fresh-suite value of the run's metric for a candidate, if measured.
std::optional<double> Search::FreshValue(archive::Archive& db, std::int64_t candidate_id) const {
  auto evals = db.Evaluations(candidate_id);
  if (!evals) return std::nullopt;
  for (const auto& e : *evals)
    if (e.suite == "fresh" && e.status == "ok")
      if (auto v = e.metrics.Get(s_.metric_name)) return v;
  return std::nullopt;
}

void Search::PrintBest(archive::Archive& db) {
  const evaluators::TaskSpec& spec = task_->spec();
  if (!spec.bands.empty()) {
    auto rows = db.List({std::nullopt, o_.task, archive::CandidateStatus::kEvaluated, 0});
    for (double band : spec.bands) {
      std::optional<archive::Row> best;
      std::optional<double> best_v;
      if (rows)
        for (const auto& r : *rows) {
          if (!r.best) continue;
          auto g = r.best->metrics.Get(spec.gate_metric);
          auto v = r.best->metrics.Get(s_.metric_name);
          // A tie goes to the earliest candidate, as in Top and the dashboard.
          if (g && v && *g >= band &&
              (!best_v || *v < *best_v || (*v == *best_v && r.candidate.id < best->candidate.id))) {
            best = r;
            best_v = v;
          }
        }
      if (best)
        fmt::print("best at {} >= {:.1f}: candidate {}  {} {}  ({:.3f}x the baseline's)\n", spec.gate_metric, band,
                   best->candidate.id, s_.metric_name,
                   FormatMetric(*best_v),
                   s_.baseline_metric > 0 ? *best_v / s_.baseline_metric : 0.0);
    }
    return;
  }
  if (auto top = db.Top(o_.task, "fitness", 1, false, scope_); top && !top->empty() && top->front().best) {
    const auto& t = top->front();
    auto v = t.best->metrics.Get(s_.metric_name);
    // The adjudicated figure heads the line, against the baseline on a
    // fresh suite; the dev figures follow.
    const auto fresh = FreshValue(db, t.candidate.id), base_fresh = FreshValue(db, baseline_id_);
    std::string head;
    if (fresh && base_fresh && *base_fresh > 0)
      head = fmt::format("{} {} on a fresh suite = {:.3f}x the baseline's {} there; ", s_.metric_name,
                         FormatMetric(*fresh), *fresh / *base_fresh, FormatMetric(*base_fresh));
    else if (fresh)
      head = fmt::format("{} {} on a fresh suite (the baseline has no fresh figure); ", s_.metric_name,
                         FormatMetric(*fresh));
    fmt::print("best (gate passed, adjudicated): candidate {}  {}dev: {}  = {:.3f}x the baseline's {} on dev\n",
               t.candidate.id, head, DescribeMetrics(spec, t.best),
               v && s_.baseline_metric > 0 ? *v / s_.baseline_metric : 0.0, s_.metric_name);
  }
}

void Search::Progress(bool final_line) {
  s_.last_news = Clock::now();
  const std::int64_t done = s_.start.candidates + s_.new_candidates;
  std::string best = "-";
  if (s_.best_fitness && s_.baseline_metric > 0)
    best = fmt::format("{} {:.4g} ({:.3f}x baseline)", s_.metric_name, -*s_.best_fitness, -*s_.best_fitness / s_.baseline_metric);
  const double mins = std::max(ElapsedS() - s_.start.elapsed_s, 1e-9) / 60;
  const double rate = static_cast<double>(s_.new_candidates) / mins;
  const bool limited = o_.max_candidates < kNoCandidateLimit;
  const std::int64_t left = o_.max_candidates - done;
  std::string eta = limited && rate > 0 && left > 0 ? fmt::format("{:.0f}m", static_cast<double>(left) / rate)
                    : !limited && o_.max_time_s > 0 ? fmt::format("{:.0f}m", std::max(0.0, o_.max_time_s - ElapsedS()) / 60)
                                                    : "-";
  // This invocation's outcomes, in outcome.h's words (its summary line has them all).
  using archive::Outcome;
  const archive::OutcomeCounts n = s_.outcomes;
  std::string line = fmt::format("[{}] candidates {}{} ({} passed the gate, {} did not run)  invalid {}  duplicates {}  "
                                 "best {}  spend ${:.4f} ({} tok)  {:.1f}/min  ETA {}",
                                 Elapsed(), done, limited ? fmt::format("/{}", o_.max_candidates) : "",
                                 n[Outcome::kPassedGate], n[Outcome::kDidNotRun], n[Outcome::kInvalid],
                                 n[Outcome::kDuplicate], best,
                                 s_.start.cost_usd + s_.cost, s_.start.tokens + s_.tokens, rate, eta);
  if (executor_ && o_.executor == "slurm") {
    const ExecutorCounts c = executor_->Counts();
    line += fmt::format("  jobs: {} queued {} running {} done", c.queued, c.running, c.done);
    if (c.resubmitted > 0 || s_.infrastructure > 0)
      line += fmt::format(" ({} resubmitted, {} lost)", c.resubmitted, s_.infrastructure);
  }
  if (tty_ && !final_line) fmt::print(stderr, "\r\033[K{}", line);
  else fmt::print(stderr, "{}{}\n", tty_ ? "\r\033[K" : "", line);
}

std::string Search::Elapsed() const {
  double t = ElapsedS();
  return t < 120 ? fmt::format("{:.0f}s", t) : fmt::format("{:.0f}m{:02.0f}s", std::floor(t / 60), std::fmod(t, 60));
}

}  // namespace ergon::engine::search
