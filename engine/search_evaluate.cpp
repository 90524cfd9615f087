// An evaluation slot: take a queued child, measure it on the dev suite,
// record it, and adjudicate a new best on a fresh suite.
#include <filesystem>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "evaluators/meter.h"
#include "engine/evaluate.h"
#include "engine/search_loop.h"

namespace ergon::engine::search {
namespace {
using json = nlohmann::json;

// After this many evaluations in a row lost to the infrastructure, the
// cluster is broken, not unlucky: the run stops.
constexpr int kInfrastructureFailuresToStop = 5;

// What a later process needs to record a queued child's measurement: the
// executor keeps it beside the job. "" for an executor that keeps no notes
// (the note carries the whole source and reply, megabytes for a generated
// program).
std::string JobNote(const Job& j, const Executor& executor) {
  if (!executor.KeepsNotes()) return "";
  const archive::LedgerEntry& l = j.ledger;
  json n = {{"kind", "dev"},       {"parent_id", j.parent_id}, {"island", j.island},     {"generation", j.generation},
            {"hash", j.hash},      {"source", j.source},       {"reply", j.reply.text}, {"intent", j.reply.intent},
            {"idea", j.reply.idea},
            {"ledger", {{"id", l.id}, {"model", l.model}, {"tokens_in", l.tokens_in}, {"tokens_out", l.tokens_out},
                        {"cost_usd", l.cost_usd}, {"latency_s", l.latency_s}, {"outcome", l.outcome},
                        {"error", l.error}}}};
  return n.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<Job> JobFromNote(const json& n, std::int64_t run_id) {
  try {
    Job j;
    j.parent_id = n.at("parent_id").get<std::int64_t>();
    j.island = n.at("island").get<int>();
    j.generation = n.at("generation").get<int>();
    j.hash = n.at("hash").get<std::string>();
    j.source = n.at("source").get<std::string>();
    j.reply.text = n.at("reply").get<std::string>();
    j.reply.intent = n.at("intent").get<std::string>();
    j.reply.idea = n.value("idea", "");
    const json& l = n.at("ledger");
    j.ledger.run_id = run_id;
    j.ledger.id = l.at("id").get<std::int64_t>();
    j.ledger.model = l.at("model").get<std::string>();
    j.ledger.tokens_in = l.at("tokens_in").get<std::int64_t>();
    j.ledger.tokens_out = l.at("tokens_out").get<std::int64_t>();
    j.ledger.cost_usd = l.at("cost_usd").get<double>();
    j.ledger.latency_s = l.at("latency_s").get<double>();
    j.ledger.outcome = l.at("outcome").get<std::string>();
    j.ledger.error = l.at("error").get<std::string>();
    return j;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

// A win's first half (Archive::Ledger's definition): the child passed the
// gate and beat its parent, or passed where the parent did not.
bool BeatsParent(const Job& j, const evaluators::Measurement& m) {
  return m.ran && m.gate_passed && (!j.parent_gate || m.fitness > j.parent_fitness);
}

std::string WhereMeasured(const std::string& suite, const evaluators::Measurement& m) {
  return fmt::format("{}: {} on {}", suite, m.job, m.node.empty() ? "?" : m.node);
}

}  // namespace

std::string Search::KeyOf(const std::string& hash, const std::string& suite) {
  return hash.substr(0, 24) + "-" + suite;
}

evaluators::Measurement Search::Measure(const std::string& hash, const std::string& suite, const std::string& source,
                                        const std::string& note) {
  return executor_->Measure(*task_, KeyOf(hash, suite), Request(source, suite), note);
}

int Search::StartExecutor() {
  if (parts_.executor) {
    executor_ = std::move(parts_.executor);
    return 0;
  }
  if (o_.executor == "local") {
    executor_ = MakeLocalExecutor(&*sandbox_);
    return 0;
  }
  SlurmOptions so;
  so.spool = o_.spool;
  so.partition = o_.slurm_partition;
  so.gres = o_.slurm_gres;
  // A GPU meter needs a GPU on the node: ask for one unless told otherwise.
  if (so.gres.empty() && evaluators::TraitsOf(RunMeter()).needs_gpu) so.gres = "gpu:1";
  so.extra_args = o_.slurm_args;
  so.home = o_.home;
  for (const auto& d : o_.tasks_dirs) so.tasks_dirs.push_back(std::filesystem::absolute(d).string());
  so.run_id = s_.run_id;
  so.max_submissions = o_.slurm_submissions;
  auto made = MakeSlurmExecutor(so);
  if (!made) {
    return SetUpError(1, made.error());
  }
  executor_ = std::move(*made);
  return 0;
}

void Search::CollectOrphans() {
  int requeued = 0;
  archive::Archive& db = recorder_->Direct();  // set-up: the recorder is not running yet
  for (const Unfinished& o : executor_->Orphans()) {
    const json n = json::parse(o.note, nullptr, false);
    const std::string kind = n.is_object() ? n.value("kind", "") : "";
    if (kind == "dev") {
      auto job = JobFromNote(n, s_.run_id);
      auto dup = job ? db.FindByHash(o_.task, job->hash) : std::nullopt;
      if (job && dup && !*dup) {
        base::MutexLock l(&s_.mu);
        s_.queue.push_back(std::move(*job));
        ++s_.in_flight;  // holds its place against the budget until recorded
        ++requeued;
        continue;
      }
    } else if (kind == "fresh") {
      // FinishPending asks again for a pending candidate's verdict, and so
      // collects this job; any other is already judged.
      auto row = db.Get(n.value("candidate", std::int64_t{0}), 0);
      if (row && *row && (*row)->candidate.status == archive::CandidateStatus::kPending) continue;
    }
    executor_->Recorded(o.key);  // recorded before the stop, or unreadable
  }
  if (requeued > 0)
    fmt::print(stderr, "ergon run: collecting {} evaluation(s) the previous process left with the executor\n", requeued);
}

void Search::Evaluator() {
  for (;;) {
    Job job;
    {
      base::MutexLock l(&s_.mu);
      while (s_.queue.empty() && s_.proposers_alive != 0 && !s_.fatal) s_.cv.Wait();
      if (s_.fatal) return;
      if (s_.queue.empty()) return;  // proposers are done and nothing is left
      job = std::move(s_.queue.front());
      s_.queue.pop_front();
      s_.cv.SignalAll();
    }
    EvaluateJob(job);
    base::MutexLock l(&s_.mu);
    --s_.in_flight;
    s_.cv.SignalAll();
  }
}

std::optional<evaluators::Measurement> Search::Cascade(const Job& job) {
  const std::string& meter = RunMeter();
  const auto& meters = task_->spec().meters;
  if (!o_.cascade || o_.executor != "local" || !evaluators::TraitsOf(meter).slow ||
      std::find(meters.begin(), meters.end(), evaluators::kCheckMeter) == meters.end())
    return std::nullopt;
  evaluators::TaskEvalRequest q = Request(job.source, "dev");
  if (q.language == "cuda") return std::nullopt;  // a CUDA learner's check would need the GPU it is queued for
  q.meter = evaluators::kCheckMeter;
  q.instances = 1;
  evaluators::Measurement m =
      executor_->Measure(*task_, KeyOf(job.hash, "cascade"), q, JobNote(job, *executor_));
  if (m.ran || m.harness_error || m.infrastructure_error || CuttingOff()) return std::nullopt;
  m.error = fmt::format("stopped by the cascade's check (one instance under the wall meter, before the {} meter) at "
                        "its {} stage: {}", meter, m.stage, m.error);
  m.stage = "cascade/" + m.stage;
  return m;
}

void Search::EvaluateJob(const Job& job) {
  // 6. Measure on the task's fixed suite, after the cascade's cheap check
  // (compile, one instance natively) when the meter is slow.
  const auto e0 = Clock::now();
  auto stopped = Cascade(job);
  const evaluators::Measurement m =
      stopped ? std::move(*stopped) : Measure(job.hash, "dev", job.source, JobNote(job, *executor_));
  const std::string key = KeyOf(job.hash, "dev");
  {
    base::MutexLock l(&s_.mu);
    s_.eval_s += std::chrono::duration<double>(Clock::now() - e0).count();
  }
  // A measurement the stop cut off says nothing about the candidate.
  if (!m.ran && CuttingOff()) {
    base::MutexLock l(&s_.mu);
    RecordFailure(job.parent_id, "cut_off", "the run stopped during its evaluation: " + m.error, job.reply.text,
                  &job.ledger, key);
    return;
  }
  // Nor does one the infrastructure lost: kept as an attempt, never as an
  // invalid candidate, never against --max-candidates.
  if (m.infrastructure_error) {
    base::MutexLock l(&s_.mu);
    RecordFailure(job.parent_id, "infrastructure", m.error, job.reply.text, &job.ledger, key);
    ++s_.infrastructure;
    if (++s_.infrastructure_in_a_row >= kInfrastructureFailuresToStop && !s_.fatal) {
      s_.fatal = true;
      s_.stop_reason = fmt::format("{} evaluations in a row lost to the infrastructure; the last: {}",
                                   s_.infrastructure_in_a_row, m.error.substr(0, 1000));
      s_.cv.SignalAll();
    }
    Progress();
    return;
  }
  // 7. Record candidate, evaluation, ledger and events in one transaction.
  bool new_best = false;
  const auto child = RecordChild(job, m, new_best);
  // Later proposals are compared with it; tokenising runs outside the lock.
  if (child && novelty_ && job.source.size() <= kBigSource) novelty_->Add(*child, job.source);
  // 8. A new best is adjudicated on a fresh suite (new secret seeds).
  if (child && new_best)
    Adjudicate(*child, job.source, job.hash, ToEvaluation(m), BeatsParent(job, m) ? job.ledger.model : "");
}

std::optional<std::int64_t> Search::RecordChild(const Job& job, const evaluators::Measurement& m, bool& new_best) {
  const std::string key = KeyOf(job.hash, "dev");
  if (m.harness_error) {
    // The task's own harness broke: not the candidate's fault, and every
    // later evaluation would break alike. Record why and stop.
    base::MutexLock l(&s_.mu);
    RecordFailure(job.parent_id, "harness", m.error, job.reply.text, &job.ledger, key);
    if (!s_.fatal) {
      s_.fatal = true;
      s_.stop_reason = "the task's harness failed (not the candidate): " + m.error.substr(0, 2000);
    }
    s_.cv.SignalAll();
    return std::nullopt;
  }
  // The row is made here, on the slot's thread: a generated source of
  // megabytes goes to the blob store (its own connection) and is copied into
  // the row before the recorder sees it.
  archive::Candidate c;
  if (job.source.size() >= archive::kBlobBytes)
    if (auto put = recorder_->Blobs().PutBlob(job.source)) c.source_blob = *put;
  c.run_id = s_.run_id;
  c.task = o_.task;
  c.parent = job.parent_id;
  c.island = job.island;
  c.generation = job.generation;
  c.source = job.source;
  c.hash = job.hash;
  c.edit = job.reply.text.substr(0, 20000);
  c.intent = job.reply.intent.substr(0, 1000);
  c.idea = job.reply.idea;
  c.reintroduced = job.reintroduced.lines;
  archive::Attempt at;
  at.candidate = std::move(c);
  at.evaluations.push_back(ToEvaluation(m));
  at.objectives = m.objectives;
  at.cell = m.cell;
  at.ledger = job.ledger;
  if (!m.ran) at.events.push_back({s_.run_id, "failure", std::nullopt, m.stage + ": " + m.error.substr(0, 300)});
  if (!m.job.empty()) at.events.push_back({s_.run_id, "measured", std::nullopt, WhereMeasured("dev", m)});
  if (const Reintroduction& re = job.reintroduced; re.lines > 0)
    at.events.push_back(
        {s_.run_id, "reintroduced", std::nullopt,
         fmt::format("this program re-adds {} of the {} lines its change added, which the change that made candidate "
                     "{} had deleted (candidate {} scored {}{})",
                     re.lines, re.added, re.by, re.by, task_->spec().minimise,
                     re.by_metric ? " " + FormatMetric(*re.by_metric) : std::string(" unmeasured"))});
  // The slot waits for the write (it adjudicates a new best next), holding
  // nothing.
  const Landed landed =
      recorder_->Call([&](archive::Archive& a) { return Land(a, job, key, m, std::move(at)); }).get();
  new_best = landed.new_best;
  return landed.id;
}

Search::Landed Search::Land(archive::Archive& a, const Job& job, const std::string& key,
                            const evaluators::Measurement& m, archive::Attempt at) {
  const auto r0 = Clock::now();
  const archive::Evaluation& ev = at.evaluations.front();
  // Another slot may have recorded the same source meanwhile.
  if (auto dup = a.FindByHash(o_.task, job.hash); dup && *dup) {
    base::MutexLock l(&s_.mu);
    s_.infrastructure_in_a_row = 0;
    RecordFailure(job.parent_id, "duplicate", fmt::format("same source as candidate {}", **dup), job.reply.text,
                  &job.ledger, key);
    return {};
  }
  bool new_best;
  {
    // Only the recorder's thread writes a verdict's status, and it writes
    // them in order: two children cannot both be judged against one best.
    base::MutexLock l(&s_.mu);
    s_.infrastructure_in_a_row = 0;
    new_best = m.ran && ev.gate_passed && (!s_.best_fitness || ev.fitness > *s_.best_fitness);
  }
  // A new best waits for its fresh-suite verdict as "pending": a stop in
  // between leaves it unjudged, never reported as best; --resume judges it.
  using archive::CandidateStatus;
  at.candidate->status = !m.ran ? CandidateStatus::kFailed : (new_best ? CandidateStatus::kPending : CandidateStatus::kEvaluated);
  auto recorded = a.RecordNew(at);
  base::MutexLock l(&s_.mu);
  if (!recorded) {
    fmt::print(stderr, "\nergon run: could not record a candidate: {}\n", recorded.error());
    s_.fatal = true;
    s_.stop_reason = "archive write failed: " + recorded.error();
    s_.cv.SignalAll();
    return {};
  }
  // Another run on this archive recorded the same source first.
  if (recorded->existing) {
    RecordFailure(job.parent_id, "duplicate",
                  fmt::format("same source as candidate {}, recorded by another run meanwhile", recorded->id),
                  job.reply.text, &job.ledger, key);
    return {};
  }
  // The archive's definition of a win (Archive::Ledger), kept in step: a
  // child that beat its parent and stands. A new best stands only once the
  // fresh suite agrees (Adjudicate counts it then).
  if (bandit_ && !new_best && BeatsParent(job, m))
    if (auto arm = bandit_->Find(job.ledger.model); arm < bandit_->arms().size()) bandit_->AddWin(arm);
  executor_->Recorded(key);
  ++s_.new_candidates;
  ++s_.outcomes[archive::CandidateOutcome(at.candidate->status, ev.gate_passed)];
  s_.recent.push_back(m.ran);
  while (s_.recent.size() > 10) s_.recent.pop_front();
  const bool migrate = s_.new_candidates % 10 == 0 && o_.islands > 1;
  // The time the run has used, kept with the run (--resume continues it);
  // written after the counters, with the migration, not under the lock.
  archive::Attempt tick;
  tick.events.push_back({s_.run_id, "elapsed", std::nullopt, fmt::format("{:.3f}", ElapsedS())});
  Progress();
  s_.engine_s += std::chrono::duration<double>(Clock::now() - r0).count();
  recorder_->Post([this, migrate, tick = std::move(tick)](archive::Archive& w) {
    if (migrate)
      if (auto moved = w.Migrate(o_.task, o_.islands, scope_); !moved)
        fmt::print(stderr, "\nergon run: note: migration between islands failed: {}\n", moved.error());
    if (auto r = w.Record(tick); !r) fmt::print(stderr, "\nergon run: note: the run's time was not recorded: {}\n", r.error());
  });
  return {recorded->id, new_best};
}

void Search::Adjudicate(std::int64_t child_id, const std::string& source, const std::string& hash,
                        const archive::Evaluation& dev, const std::string& win_for) {
  EnsureBaselineFresh();  // the headline's like-for-like comparison
  const auto f0 = Clock::now();
  const evaluators::Measurement fresh =
      Measure(hash, "fresh", source, json({{"kind", "fresh"}, {"candidate", child_id}}).dump());
  const std::string key = KeyOf(hash, "fresh");
  {
    base::MutexLock l(&s_.mu);
    s_.eval_s += std::chrono::duration<double>(Clock::now() - f0).count();
  }
  if (!fresh.ran && CuttingOff()) {  // still pending: --resume judges it
    executor_->Recorded(key);
    return;
  }
  if (fresh.infrastructure_error) {  // no verdict either way: still pending, --resume judges it
    fmt::print(stderr, "\nergon run: candidate {}'s fresh-suite verdict was lost to the infrastructure (it stays "
               "pending; --resume judges it): {}\n", child_id, fresh.error.substr(0, 500));
    executor_->Recorded(key);
    base::MutexLock l(&s_.mu);
    ++s_.infrastructure;
    return;
  }
  if (fresh.harness_error) {  // the harness's fault: no verdict on the candidate
    executor_->Recorded(key);
    base::MutexLock l(&s_.mu);
    if (!s_.fatal) {
      s_.fatal = true;
      s_.stop_reason = "the task's harness failed on the fresh suite (not the candidate): " + fresh.error.substr(0, 2000);
    }
    s_.cv.SignalAll();
    return;
  }
  const evaluators::TaskSpec& spec = task_->spec();
  archive::Attempt at;
  at.existing_candidate = child_id;
  const archive::Evaluation fresh_ev = ToEvaluation(fresh);
  at.evaluations.push_back(fresh_ev);
  const bool holds = fresh.ran && fresh.gate_passed;
  if (!fresh.job.empty()) at.events.push_back({s_.run_id, "measured", child_id, WhereMeasured("fresh", fresh)});
  // The verdict, the fresh evaluation and the event land together.
  at.set_status = holds ? archive::CandidateStatus::kEvaluated : archive::CandidateStatus::kOverfit;
  if (holds) {
    {
      base::MutexLock l(&s_.mu);
      if (!s_.best_fitness || dev.fitness > *s_.best_fitness) s_.best_fitness = dev.fitness;  // slots adjudicate out of order
      if (bandit_ && !win_for.empty())
        if (auto arm = bandit_->Find(win_for); arm < bandit_->arms().size()) bandit_->AddWin(arm);
    }
    at.events.push_back({s_.run_id, "improvement", child_id,
                         fmt::format("new best: {} (fresh suite agrees)", DescribeMetrics(spec, dev))});
  } else {
    at.events.push_back({s_.run_id, "overfit", child_id,
                         fmt::format("passes on dev, fails on a fresh suite: {}",
                                     fresh.ran ? DescribeMetrics(spec, fresh_ev) : fresh.error)});
  }
  recorder_->Post([this, at = std::move(at), key, child_id](archive::Archive& a) {
    auto r = a.Record(at);
    if (r) executor_->Recorded(key);
    base::MutexLock l(&s_.mu);
    if (!r) {
      fmt::print(stderr, "\nergon run: could not record the verdict on candidate {}: {}\n", child_id, r.error());
      s_.fatal = true;
      s_.stop_reason = "archive write failed: " + r.error();
      s_.cv.SignalAll();
      return;
    }
    if (!tty_) Progress();
  });
}

void Search::FinishPending() {
  // Set-up: the recorder is not running yet, so its connection reads, and
  // Adjudicate's writes run here, in order.
  std::vector<std::int64_t> pending;
  if (auto p = recorder_->Direct().Pending(s_.run_id)) pending = *p;
  for (auto id : pending) {
    std::optional<archive::Row> row;
    if (auto r = recorder_->Direct().Get(id); r && *r) row = **r;
    if (!row || !row->best) continue;
    fmt::print(stderr, "ergon run: candidate {} was a new best awaiting its fresh-suite verdict: judging it now\n", id);
    Adjudicate(id, row->candidate.source, row->candidate.hash, *row->best);
  }
}

}  // namespace ergon::engine::search
