// An evaluation slot: take a queued child, measure it on the dev suite,
// record it, and adjudicate a new best on a fresh suite.
#include <fmt/core.h>

#include "engine/evaluate.h"
#include "engine/search_loop.h"

namespace ergon::engine::search {

void Search::Evaluator() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> l(s_.mu);
      s_.cv.wait(l, [&] { return !s_.queue.empty() || s_.proposers_alive == 0 || s_.fatal; });
      if (s_.fatal) return;
      if (s_.queue.empty()) return;  // proposers are done and nothing is left
      job = std::move(s_.queue.front());
      s_.queue.pop_front();
      s_.cv.notify_all();
    }
    EvaluateJob(job);
    std::lock_guard<std::mutex> l(s_.mu);
    --s_.in_flight;
    s_.cv.notify_all();
  }
}

void Search::EvaluateJob(const Job& job) {
  // 6. Measure on the task's fixed suite.
  const evaluators::TaskEvalRequest dev = Request(job.source, "dev");
  const auto e0 = Clock::now();
  const evaluators::Measurement m = Evaluate(*task_, dev, &*sandbox_).m;
  {
    std::lock_guard<std::mutex> l(s_.mu);
    s_.eval_s += std::chrono::duration<double>(Clock::now() - e0).count();
  }
  // A measurement the stop cut off says nothing about the candidate.
  if (!m.ran && CuttingOff()) {
    std::lock_guard<std::mutex> l(s_.mu);
    RecordFailure(job.parent_id, "cut_off", "the run stopped during its evaluation: " + m.error, job.reply.text,
                  &job.ledger);
    ++s_.cut_off;
    return;
  }
  // 7. Record candidate, evaluation, ledger and events in one transaction.
  bool new_best = false;
  const auto child = RecordChild(job, m, new_best);
  // 8. A new best is adjudicated on a fresh suite (new secret seeds).
  if (child && new_best) Adjudicate(*child, job.source, ToEvaluation(m));
}

std::optional<std::int64_t> Search::RecordChild(const Job& job, const evaluators::Measurement& m, bool& new_best) {
  std::lock_guard<std::mutex> l(s_.mu);
  const auto r0 = Clock::now();
  struct Timed {
    double& acc;
    Clock::time_point t0;
    ~Timed() { acc += std::chrono::duration<double>(Clock::now() - t0).count(); }
  } timed{s_.engine_s, r0};
  if (m.harness_error) {
    // The task's own harness broke: not the candidate's fault, and every
    // later evaluation would break alike. Record why and stop.
    RecordFailure(job.parent_id, "harness", m.error, job.reply.text, &job.ledger);
    if (!s_.fatal) {
      s_.fatal = true;
      s_.stop_reason = "the task's harness failed (not the candidate): " + m.error.substr(0, 2000);
    }
    s_.cv.notify_all();
    return std::nullopt;
  }
  // Another slot may have recorded the same source meanwhile.
  if (auto dup = s_.archive->FindByHash(o_.task, job.hash); dup && *dup) {
    RecordFailure(job.parent_id, "duplicate", fmt::format("same source as candidate {}", **dup), job.reply.text,
                  &job.ledger);
    ++s_.duplicates;
    return std::nullopt;
  }
  archive::Attempt at;
  archive::Candidate c;
  c.run_id = s_.run_id;
  c.task = o_.task;
  c.parent = job.parent_id;
  c.island = job.island;
  c.generation = job.generation;
  c.source = job.source;
  c.hash = job.hash;
  c.edit = job.reply.text.substr(0, 20000);
  c.intent = job.reply.intent.substr(0, 1000);
  const archive::Evaluation ev = ToEvaluation(m);
  new_best = m.ran && ev.gate_passed && (!s_.best_fitness || ev.fitness > *s_.best_fitness);
  // A new best waits for its fresh-suite verdict as "pending": a stop in
  // between leaves it unjudged, never reported as best; --resume judges it.
  c.status = !m.ran ? "failed" : (new_best ? "pending" : "evaluated");
  at.candidate = c;
  at.evaluations.push_back(ev);
  at.objectives = m.objectives;
  at.cell = m.cell;
  at.ledger = job.ledger;
  if (!m.ran) at.events.push_back({s_.run_id, "failure", std::nullopt, m.stage + ": " + m.error.substr(0, 300)});
  auto id = s_.archive->Record(at);
  if (!id) {
    fmt::print(stderr, "\nergon run: could not record a candidate: {}\n", id.error());
    s_.fatal = true;
    s_.stop_reason = "archive write failed: " + id.error();
    s_.cv.notify_all();
    return std::nullopt;
  }
  ++s_.new_candidates;
  if (!m.ran) ++s_.invalid;
  s_.recent.push_back(m.ran);
  while (s_.recent.size() > 10) s_.recent.pop_front();
  if (s_.new_candidates % 10 == 0 && o_.islands > 1) (void)s_.archive->Migrate(o_.task, o_.islands);
  archive::Attempt tick;
  tick.events.push_back({s_.run_id, "elapsed", std::nullopt, fmt::format("{:.3f}", ElapsedS())});
  (void)s_.archive->Record(tick);
  Progress();
  return *id;
}

void Search::Adjudicate(std::int64_t child_id, const std::string& source, const archive::Evaluation& dev) {
  const auto f0 = Clock::now();
  const evaluators::Measurement fresh = Evaluate(*task_, Request(source, "fresh"), &*sandbox_).m;
  std::lock_guard<std::mutex> l(s_.mu);
  s_.eval_s += std::chrono::duration<double>(Clock::now() - f0).count();
  if (!fresh.ran && CuttingOff()) return;  // still pending: --resume judges it
  if (fresh.harness_error) {  // the harness's fault: no verdict on the candidate
    if (!s_.fatal) {
      s_.fatal = true;
      s_.stop_reason = "the task's harness failed on the fresh suite (not the candidate): " + fresh.error.substr(0, 2000);
    }
    s_.cv.notify_all();
    return;
  }
  const evaluators::TaskSpec& spec = task_->spec();
  archive::Attempt at;
  at.existing_candidate = child_id;
  const archive::Evaluation fresh_ev = ToEvaluation(fresh);
  at.evaluations.push_back(fresh_ev);
  const bool holds = fresh.ran && fresh.gate_passed;
  // The verdict, the fresh evaluation and the event land together.
  at.set_status = holds ? "evaluated" : "overfit";
  if (holds) {
    if (!s_.best_fitness || dev.fitness > *s_.best_fitness) s_.best_fitness = dev.fitness;  // slots adjudicate out of order
    at.events.push_back({s_.run_id, "improvement", child_id,
                         fmt::format("new best: {} (fresh suite agrees)", DescribeMetrics(spec, dev))});
  } else {
    at.events.push_back({s_.run_id, "overfit", child_id,
                         fmt::format("passes on dev, fails on a fresh suite: {}",
                                     fresh.ran ? DescribeMetrics(spec, fresh_ev) : fresh.error)});
  }
  if (auto r = s_.archive->Record(at); !r) {
    fmt::print(stderr, "\nergon run: could not record the verdict on candidate {}: {}\n", child_id, r.error());
    s_.fatal = true;
    s_.stop_reason = "archive write failed: " + r.error();
    s_.cv.notify_all();
    return;
  }
  if (!tty_) Progress();
}

void Search::FinishPending() {
  std::vector<std::int64_t> pending;
  {
    std::lock_guard<std::mutex> l(s_.mu);
    if (auto p = s_.archive->Pending(s_.run_id)) pending = *p;
  }
  for (auto id : pending) {
    std::optional<archive::Row> row;
    {
      std::lock_guard<std::mutex> l(s_.mu);
      if (auto r = s_.archive->Get(id); r && *r) row = **r;
    }
    if (!row || !row->best) continue;
    fmt::print(stderr, "ergon run: candidate {} was a new best awaiting its fresh-suite verdict: judging it now\n", id);
    Adjudicate(id, row->candidate.source, *row->best);
  }
}

}  // namespace ergon::engine::search
