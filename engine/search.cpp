// `ergon run`: set-up and the worker threads. The loop itself is in
// search_propose.cpp (proposers) and search_evaluate.cpp (evaluation
// slots); the agents in search_agents.cpp, what --resume keeps in
// search_resume.cpp, progress and the summary in search_summary.cpp;
// search_loop.h holds the state they share.
#include "engine/search.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "engine/agents/curl_api.h"
#include "engine/budget.h"
#include "engine/evaluate.h"
#include "engine/home.h"
#include "engine/prompt_parts.h"
#include "engine/run_process.h"
#include "engine/task_origin.h"
#include "engine/search_loop.h"
#include "engine/tasks.h"
#include "evaluators/meter.h"
#include "genome/genome.h"
#include "prompts/render.h"

namespace ergon::engine {
namespace search {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

// First Ctrl-C: no new proposals, running evaluations get the grace period.
// Second: cut them off now (the monitor does it and marks the run stopped).
// Third: leave at once (the archive stays consistent; the run stays marked
// running until --resume).
std::atomic<int> g_interrupts{0};
void OnInterrupt(int) {
  const int n = g_interrupts.fetch_add(1) + 1;
  if (n == 2) {
    static const char msg[] = "\nergon run: cutting off the work in flight now (Ctrl-C again leaves at once)\n";
    (void)!::write(2, msg, sizeof msg - 1);
  } else if (n >= 3) {
    static const char msg[] = "\nergon run: leaving now (the archive is consistent; --resume continues the run)\n";
    (void)!::write(2, msg, sizeof msg - 1);
    std::_Exit(130);
  }
}

std::string Slurp(const fs::path& p) { return base::ReadFile(p.string()).value_or(""); }

}  // namespace

int Interrupts() { return g_interrupts.load(); }
void InstallInterruptHandlers() {
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
}
void RemoveInterruptHandlers() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

int Search::Run() {
  tty_ = ::isatty(2) && !std::getenv("NO_COLOR") && std::string(std::getenv("TERM") ? std::getenv("TERM") : "dumb") != "dumb";
  if (int rc = RecallTask()) return rc;
  if (int rc = OpenTask()) return rc;
  if (int rc = StartAgents()) return rc;
  if (int rc = CheckTemplates()) return rc;
  // The cluster answers before the run is opened: nothing is written for a
  // run that cannot evaluate.
  if (o_.executor == "slurm")
    if (auto why = SlurmProblem(); !why.empty()) {
      fmt::print(stderr, "ergon run: {}\n", why);
      return 1;
    }
  if (int rc = OpenRun()) return rc;
  // From here the run is in the archive: a set-up failure ends it as failed,
  // with why, rather than leaving it "running".
  if (int rc = StartExecutor()) return FailedSetUp(rc);
  if (int rc = EnsureBaseline()) return FailedSetUp(rc);
  LoadNoveltyIndex();
  CollectOrphans();
  FinishPending();
  // After the verdicts a stop left pending: the ledger then says all a
  // resumed run's bandit knew, and what it would have learnt since.
  RestoreBandit();
  // From here until the summary, the recorder's thread alone writes.
  recorder_->Start();
  RunWorkers();
  recorder_->Stop();
  return Summarise();
}

int Search::FailedSetUp(int rc) {
  const std::string why = set_up_error_.empty() ? fmt::format("set-up failed (exit code {})", rc) : set_up_error_;
  if (auto ended = recorder_->Direct().EndRun(s_.run_id, archive::RunStatus::kFailed, why); !ended)
    fmt::print(stderr, "ergon run: could not mark run {} failed: {}\n", s_.run_id, ended.error());
  return rc;
}

// Prints why set-up failed and keeps it for the run's row.
int Search::SetUpError(int rc, const std::string& why) {
  fmt::print(stderr, "ergon run: {}\n", why);
  set_up_error_ = why;
  return rc;
}

// What an existing archive remembers: the folders its runs' tasks came
// from (searched after --tasks), and, for --resume, the run's task.
int Search::RecallTask() {
  std::error_code ec;
  if (!fs::exists(o_.db, ec)) {
    if (o_.resume) {
      fmt::print(stderr, "ergon run: --resume {}: {} does not exist (--db chooses the archive)\n", *o_.resume, o_.db);
      return 2;
    }
    return 0;
  }
  auto opened = archive::Archive::OpenReadOnly(o_.db);
  if (!opened) return 0;  // OpenRun says what is wrong with it
  auto runs = (*opened)->Runs();
  if (!runs) return 0;
  for (auto& d : RememberedTaskDirs(*runs)) o_.tasks_dirs.push_back(std::move(d));
  if (!o_.resume) return 0;
  for (const auto& r : *runs)
    if (r.id == *o_.resume) {
      if (o_.task.empty()) o_.task = r.task;
      resumed_run_ = r;
      return 0;
    }
  fmt::print(stderr, "ergon run: no run {} in {} (`ergon archive runs` lists them)\n", *o_.resume, o_.db);
  return 2;
}

// The task from the registry, checked against this run's flags, and one
// sandbox for the whole run.
int Search::OpenTask() {
  auto registry = evaluators::TaskRegistry::Load(o_.home, o_.tasks_dirs);
  auto task = registry.Open(o_.task);
  if (!task) {
    fmt::print(stderr, "ergon run: {}\n", task.error());
    return 2;
  }
  task_ = std::move(*task);
  if (resumed_run_)
    if (auto change = TaskOriginChange(*resumed_run_, &task_->spec()); !change.empty())
      fmt::print(stderr, "ergon run: note: {}\n", change);
  task_facts_ = task_->AgentFacts(RunMeter());
  if (auto why = task_->CheckRequest(Request("", "dev")); !why.empty()) {
    fmt::print(stderr, "ergon run: {}\n", why);
    return 2;
  }
  // A run compiles many candidates of one task: precompiled headers pay.
  sandbox::SandboxOptions sandbox_options;
  sandbox_options.precompiled_headers = true;
  auto sb = sandbox::Sandbox::Create(sandbox_options);
  if (!sb) {
    fmt::print(stderr, "ergon run: {}\n", sb.error());
    return 1;
  }
  sandbox_ = std::move(*sb);
  return 0;
}

// The archive, and this run in it: a new one, or the one --resume names with
// what it has used so far.
int Search::OpenRun() {
  // A new run's budgets are known now: refuse before anything is written.
  if (!o_.resume)
    if (auto why = PriceProblem(); !why.empty()) {
      fmt::print(stderr, "ergon run: {}\n", why);
      return 2;
    }
  auto opened = archive::Archive::Open(o_.db);
  if (!opened) {
    fmt::print(stderr, "ergon run: {}\n", opened.error());
    return 1;
  }
  recorder_ = std::make_unique<Recorder>(std::move(*opened));
  archive::Archive& db = recorder_->Direct();  // set-up: no other thread exists yet
  std::uint64_t seed = o_.seed;
  // Runs of this archive whose process died (killed, crashed) are closed
  // first, so that none stays "running" and a resume of one is allowed.
  if (auto lost = CloseLostRuns(db); !lost) {
    fmt::print(stderr, "ergon run: {}\n", lost.error());
    return 1;
  } else if (*lost > 0) {
    fmt::print(stderr, "ergon run: {} earlier run(s) of {} had died without closing; marked stopped "
               "(`ergon archive runs` says why)\n", *lost, o_.db);
  }
  if (o_.resume) {
    auto run = db.GetRun(*o_.resume);
    if (!run || !*run) {
      fmt::print(stderr, "ergon run: no run {} in {} (`ergon archive runs` lists them)\n", *o_.resume, o_.db);
      return 2;
    }
    if ((*run)->task != o_.task) {
      fmt::print(stderr, "ergon run: run {} is a {} run, not {}\n", *o_.resume, (*run)->task, o_.task);
      return 2;
    }
    // Marked running by a process on another host: nobody here can tell
    // whether it lives. Say so, and go on (as before runs kept a process).
    const bool elsewhere = (*run)->status == archive::RunStatus::kRunning && StateOf((*run)->process) == ProcessState::kUnknown;
    if (elsewhere)
      fmt::print(stderr, "ergon run: run {} is marked running by {}, which cannot be checked from here; resuming it "
                 "anyway (stop that process first if it still runs)\n", *o_.resume, DescribeProcess((*run)->process));
    if (auto reopened = db.ReopenRun(*o_.resume, ThisProcess(), elsewhere); !reopened) {
      fmt::print(stderr, "ergon run: {} ({})\n", reopened.error(), DescribeProcess((*run)->process));
      return 2;
    }
    s_.run_id = *o_.resume;
    KeepStoredBudgets(db, (*run)->settings);
    KeepStoredExecutor((*run)->settings);
    if (int rc = KeepStoredStrategy((*run)->settings)) return rc;
    if (auto why = PriceProblem(); !why.empty()) {
      fmt::print(stderr, "ergon run: {}\n", why);
      return 2;
    }
    if (auto lost = db.CloseLostCalls(s_.run_id); lost && *lost > 0)
      fmt::print(stderr, "ergon run: {} agent call(s) were in flight when the run stopped: kept in the ledger as lost\n", *lost);
    auto t = db.Totals(s_.run_id);
    if (!t) {
      fmt::print(stderr, "ergon run: {}\n", t.error());
      return 1;
    }
    s_.start = *t;
    seed = o_.seed + static_cast<std::uint64_t>(t->candidates + t->attempts) * 7919;
    fmt::print(stderr, "ergon run: resuming run {}: {} candidates, {} failed attempts, ${:.4f}, {:.0f}s so far\n",
               s_.run_id, t->candidates, t->attempts, t->cost_usd, t->elapsed_s);
    // A budget already spent ends the resumed run at once: say which, and
    // how to give it more, rather than stop with no word of why.
    std::vector<std::string> spent;
    if (t->candidates >= o_.max_candidates)
      spent.push_back(fmt::format("--max-candidates {} (it has {}): give a larger --max-candidates", o_.max_candidates,
                                  t->candidates));
    if (o_.max_time_s > 0 && t->elapsed_s >= o_.max_time_s)
      spent.push_back(fmt::format("--max-time {:.0f}s (it ran {:.0f} s): give a longer --max-time, e.g. {:.0f}s",
                                  o_.max_time_s, t->elapsed_s, std::ceil(t->elapsed_s + o_.max_time_s)));
    if (o_.max_cost_usd > 0 && t->cost_usd >= o_.max_cost_usd)
      spent.push_back(fmt::format("--max-cost ${:.2f} (it spent ${:.4f}): give a larger --max-cost", o_.max_cost_usd,
                                  t->cost_usd));
    if (o_.max_tokens > 0 && t->tokens >= o_.max_tokens)
      spent.push_back(fmt::format("--max-tokens {} (it used {}): give a larger --max-tokens", o_.max_tokens, t->tokens));
    for (const auto& why : spent)
      fmt::print(stderr, "ergon run: run {}'s budget is already spent: {}\n", s_.run_id, why);
  } else {
    json settings = {{"agent", o_.agent}, {"model", ModelNames()}, {"max_candidates", o_.max_candidates},
                     {"max_time_s", o_.max_time_s}, {"max_cost_usd", o_.max_cost_usd}, {"max_tokens", o_.max_tokens},
                     {"islands", o_.islands}, {"seed", o_.seed}, {"meter", o_.meter}, {"evaluators", o_.evaluators},
                     {"executor", o_.executor}, {"config", o_.config}, {"task_origin", TaskOrigin(task_->spec())},
                     {"agent_params", o_.agent_params}, {"strategy", StrategyName(o_.strategy)},
                     {"isolated", o_.isolated}};
    if (!o_.study.empty())
      settings["study"] = {{"name", o_.study},
                           {"arm", o_.study_arm.empty() ? std::string(StrategyName(o_.strategy)) : o_.study_arm},
                           {"seed", o_.seed}};
    if (o_.executor == "slurm")
      settings["slurm"] = {{"partition", o_.slurm_partition}, {"gres", o_.slurm_gres}, {"args", o_.slurm_args},
                           {"spool", o_.spool}, {"submissions", o_.slurm_submissions}};
    archive::Run run{0, o_.task, o_.agent, ModelNames(), settings.dump(), 0, 0, archive::RunStatus::kRunning};
    run.process = ThisProcess();
    auto id = db.BeginRun(run);
    if (!id) {
      fmt::print(stderr, "ergon run: {}\n", id.error());
      return 1;
    }
    s_.run_id = *id;
    fmt::print(stderr, "ergon run: budget: {}\n", BudgetLine());
  }
  {
    base::MutexLock l(&s_.mu);
    s_.rng.seed(seed);
  }
  const fs::path stopfile = fs::absolute(o_.db).parent_path() / "STOP";
  std::error_code ec;
  if (fs::exists(stopfile, ec))
    fmt::print(stderr, "ergon run: {} is older than this run and is ignored (delete it; a STOP made from now on "
               "stops the run)\n", stopfile.string());
  return 0;
}

void Search::LoadNoveltyIndex() {
  if (o_.novelty <= 0) return;
  novelty_.emplace(o_.novelty);
  if (auto src = recorder_->Direct().Sources(o_.task, kBigSource, 5000, scope_))
    for (const auto& [id, text] : *src) novelty_->Add(id, text);
}

// Every template renders before anything is spent: a broken repair.txt must
// not end repair silently half-way through a night.
int Search::CheckTemplates() {
  std::map<std::string, std::string> vars;
  for (const auto& name : PromptVarNames()) vars[name] = "x";
  for (const char* file : {"system.txt", "mutate.txt", "repair.txt"}) {
    auto r = Prompt(file, vars);
    if (!r) {
      fmt::print(stderr, "ergon run: {}\n", r.error());
      return 2;
    }
  }
  return 0;
}

// The task's baseline is evaluated once per archive; the best so far is
// where the search stands.
int Search::EnsureBaseline() {
  // The baseline is the task's baseline file, found by its content hash: not
  // whatever candidate happens to be first (a manual `ergon eval --db` of
  // another file must not become it).
  const std::string src = Slurp(fs::path(task_->spec().dir) / task_->spec().baseline);
  const std::string hash = genome::ContentHash(src);
  archive::Archive& db = recorder_->Direct();  // set-up: no other thread exists yet
  auto found = db.FindByHash(o_.task, hash);
  if (!found) return SetUpError(1, found.error());
  if (!*found) {
    fmt::print(stderr, "ergon run: evaluating the {} baseline first...\n", o_.task);
    const evaluators::Measurement out = Measure(hash, "dev", src, R"({"kind": "baseline"})");
    if (out.infrastructure_error) {
      executor_->Recorded(KeyOf(hash, "dev"));
      return SetUpError(1, "the baseline could not be measured on the cluster: " + out.error);
    }
    if (!out.ran) {
      const int rc = SetUpError(1, fmt::format("the baseline does not run: {}{} ({})",
                                               out.harness_error ? "the task's harness failed: " : "", out.error,
                                               out.stage));
      if (!out.feedback.empty()) fmt::print(stderr, "{}\n", out.feedback.substr(0, 2000));
      return rc;
    }
    archive::Attempt at;
    archive::Candidate c;
    c.run_id = s_.run_id;
    c.task = o_.task;
    c.source = src;
    c.hash = hash;
    c.intent = "the task's baseline";
    at.candidate = c;
    at.evaluations.push_back(ToEvaluation(out));
    at.objectives = out.objectives;
    at.cell = out.cell;
    at.events.push_back({s_.run_id, "baseline", std::nullopt, out.text.substr(0, 300)});
    if (!out.job.empty())
      at.events.push_back({s_.run_id, "measured", std::nullopt, fmt::format("dev: {} on {}", out.job, out.node)});
    // Another run on this archive may have recorded it meanwhile: then
    // that one is the baseline, and nothing is written twice.
    auto id = db.RecordNew(at);
    if (!id) return SetUpError(1, id.error());
    executor_->Recorded(KeyOf(hash, "dev"));
    if (id->existing) {
      fmt::print(stderr, "ergon run: baseline: another run recorded it meanwhile (candidate {})\n", id->id);
    } else {
      for (int i = 1; i < o_.islands; ++i)
        if (auto shared = db.Share(id->id, i); !shared) return SetUpError(1, shared.error());
      fmt::print(stderr, "ergon run: baseline: {}\n", out.text.substr(0, out.text.find('\n')));
    }
    found = std::optional<std::int64_t>(id->id);
  }
  auto base = db.Get(**found, 0);
  if (!base || !*base) return SetUpError(1, base ? "the baseline vanished from the archive" : base.error());
  if ((*base)->candidate.status == archive::CandidateStatus::kFailed || !(*base)->best)
    return SetUpError(1, fmt::format("the {} baseline is recorded as failed in {} (candidate {}): {}", o_.task, o_.db,
                                     **found, (*base)->best ? (*base)->best->status : "no evaluation"));
  baseline_id_ = **found;
  scope_ = {o_.isolated ? s_.run_id : 0, baseline_id_};
  baseline_ = **base;
  baseline_src_ = src;
  baseline_hash_ = hash;
  const archive::Row& b = *baseline_;
  std::optional<double> best;
  if (b.best) {
    s_.metric_name = MainMetric(task_->spec(), *b.best);
    s_.baseline_metric = b.best->metrics.Get(s_.metric_name).value_or(0);
    if (b.best->gate_passed) best = b.best->fitness;
  }
  // The best so far (after a resume, or from earlier runs of this archive
  // that the run may see).
  if (auto top = db.Top(o_.task, "fitness", 1, false, scope_); top && !top->empty() && top->front().best)
    best = top->front().best->fitness;
  if (auto evals = db.Evaluations(baseline_id_))
    for (const auto& e : *evals) baseline_has_fresh_ = baseline_has_fresh_ || (e.suite == "fresh" && e.status == "ok");
  base::MutexLock l(&s_.mu);
  s_.best_fitness = best;
  return 0;
}

void Search::RunWorkers() {
  InstallInterruptHandlers();
  int workers = o_.evaluators > 0 ? o_.evaluators
                                  : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  // One GPU here: one evaluation at a time (a cluster gives each job its own).
  if (evaluators::TraitsOf(RunMeter()).needs_gpu && o_.executor == "local") workers = 1;
  evaluators_ = workers;
  const int proposers = o_.proposals > 0 ? o_.proposals : workers;
  fmt::print(stderr, "ergon run: run {} on {} with the {} agent ({}): {} proposal(s) in flight, {} evaluation slot(s), "
             "{} island(s); archive {}{}\n",
             s_.run_id, o_.task, o_.agent, ModelNames(), proposers, workers, o_.islands, o_.db,
             o_.executor == "slurm" ? fmt::format("; evaluations are Slurm jobs (spool {})", o_.spool) : "");
  {
    base::MutexLock l(&s_.mu);
    s_.proposers_alive = proposers;
  }
  std::vector<std::thread> pool;
  for (int i = 0; i < proposers; ++i)
    pool.emplace_back([this, i] {
      Proposer(i);
      base::MutexLock l(&s_.mu);
      --s_.proposers_alive;
      s_.cv.SignalAll();
    });
  for (int i = 0; i < workers; ++i) pool.emplace_back([this] { Evaluator(); });
  {
    base::MutexLock l(&s_.mu);
    s_.last_news = Clock::now();
  }
  std::thread monitor([this] { Monitor(); });
  for (auto& t : pool) t.join();
  {
    base::MutexLock l(&s_.mu);
    monitor_done_ = true;
    s_.cv.SignalAll();
  }
  monitor.join();
  RemoveInterruptHandlers();
}

void Search::Monitor() {
  std::optional<Clock::time_point> cut_at;
  bool deadline = false;
  for (;;) {
    const bool stop_file = StopFileAppeared();  // a stat: outside the lock
    base::MutexLock l(&s_.mu);
    if (monitor_done_) break;
    s_.stop_file = s_.stop_file || stop_file;
    s_.cv.WaitFor(std::chrono::milliseconds(100));
    if (monitor_done_) break;
    const auto now = Clock::now();
    if (!s_.stop && !s_.fatal && !BudgetLeft()) s_.cv.SignalAll();  // wake proposers waiting on the budget
    // The candidate budget spent: what is still in flight is within it (the
    // budget counts attempts in flight), chiefly new bests awaiting their
    // fresh-suite verdicts, so it finishes rather than being left pending.
    const bool finishing = !s_.fatal && Interrupts() == 0 && s_.stop_reason.rfind("--max-candidates", 0) == 0;
    if ((s_.stop || s_.fatal) && !cut_at && !finishing) {
      // The deadline and a fatal error cut off at once; other stops give the
      // evaluations already running a grace period.
      deadline = o_.max_time_s > 0 && ElapsedS() >= o_.max_time_s;
      const bool at_once = s_.fatal || deadline || Interrupts() >= 2 || s_.in_flight == 0;
      cut_at = now + (at_once ? Clock::duration::zero()
                              : std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.grace_s)));
      if (!at_once)
        fmt::print(stderr, "\nergon run: stopping ({}): no new proposals; {} attempt(s) in flight get {:.0f} s to "
                   "finish, then are cut off\n", s_.stop_reason, s_.in_flight, o_.grace_s);
    }
    if (cut_at && Interrupts() >= 2) cut_at = now;
    if (cut_at && now >= *cut_at && !cancel_.load()) {
      cancel_.store(true);
      sandbox_->Cancel();
      executor_->Cancel();  // a cluster's jobs of this run, and only those
      if (s_.in_flight > 0)
        fmt::print(stderr, "\nergon run: cutting off {} attempt(s) in flight ({}); they are recorded as cut off\n",
                   s_.in_flight, deadline ? "deadline" : s_.stop_reason);
      s_.cv.SignalAll();
    }
    // A heartbeat while nothing lands: the run is alive, and how far it is.
    if (now - s_.last_news >= std::chrono::duration<double>(o_.heartbeat_s)) {
      Progress();
      if (!tty_) fmt::print(stderr, "  (still running: {} attempt(s) in flight)\n", s_.in_flight);
    }
  }
}

// The headline compares like with like: a new best is judged on a fresh
// suite, so the baseline is measured on one too, once per archive, when the
// first new best is judged (a run that finds none pays nothing). A failure
// is noted, not fatal: the headline then says it has no fresh baseline.
void Search::EnsureBaselineFresh() {
  std::call_once(baseline_fresh_once_, [this] {
    if (baseline_has_fresh_) return;
    const evaluators::Measurement out =
        Measure(baseline_hash_, "fresh", baseline_src_, R"({"kind": "baseline_fresh"})");
    const std::string key = KeyOf(baseline_hash_, "fresh");
    if (!out.ran) {
      executor_->Recorded(key);
      if (!CuttingOff())
        fmt::print(stderr, "\nergon run: note: the baseline could not be measured on a fresh suite ({}): results "
                   "are compared with its dev figure only\n", out.error.substr(0, 300));
      return;
    }
    archive::Attempt at;
    at.existing_candidate = baseline_id_;
    at.evaluations.push_back(ToEvaluation(out));
    at.events.push_back({s_.run_id, "baseline_fresh", baseline_id_, out.text.substr(0, 300)});
    recorder_->Post([this, at = std::move(at), key](archive::Archive& a) {
      if (auto r = a.Record(at); !r)
        fmt::print(stderr, "\nergon run: note: the baseline's fresh-suite figure was not recorded: {}\n", r.error());
      executor_->Recorded(key);
    });
  });
}

tl::expected<std::string, std::string> Search::Prompt(const std::string& file,
                                                      const std::map<std::string, std::string>& v) {
  const fs::path dir = o_.prompts_dir.empty() ? fs::path(o_.home) / "prompts" : fs::path(o_.prompts_dir);
  const fs::path p = dir / file;
  if (!fs::exists(p)) return tl::unexpected(fmt::format("prompt template {} not found", p.string()));
  auto r = prompts::Render(Slurp(p), v);
  if (!r) return tl::unexpected(fmt::format("{}: {}", p.string(), r.error()));
  return *r;
}

std::string Search::BudgetLine() const {
  std::string out = o_.max_candidates < kNoCandidateLimit ? fmt::format("{} candidates", o_.max_candidates)
                                                          : std::string("no candidate limit");
  if (o_.max_time_s > 0) out += fmt::format(", {:.0f} s", o_.max_time_s);
  if (o_.max_cost_usd > 0) out += fmt::format(", ${:.4f}", o_.max_cost_usd);
  if (o_.max_tokens > 0) out += fmt::format(", {} tokens", o_.max_tokens);
  const bool given = std::find(o_.given.begin(), o_.given.end(), "--max-candidates") != o_.given.end();
  if (!given && !o_.resume && o_.max_candidates < kNoCandidateLimit && o_.max_time_s <= 0 && o_.max_cost_usd <= 0 &&
      o_.max_tokens <= 0)
    out += " (the default when no budget is given: --max-candidates, --max-time 8h, --max-cost USD set one)";
  return out;
}

bool Search::BudgetLeft() {
  if (s_.stop || s_.fatal) return false;
  Used used;
  used.candidates = s_.start.candidates + s_.new_candidates;
  used.elapsed_s = ElapsedS();
  used.cost_usd = s_.start.cost_usd + s_.cost;
  used.tokens = s_.start.tokens + s_.tokens;
  used.outcomes = s_.outcomes;
  used.interrupted = Interrupts() > 0;
  used.stop_file = s_.stop_file;
  std::string why = StopReason({o_.max_candidates, o_.max_time_s, o_.max_cost_usd, o_.max_tokens}, used,
                               (fs::absolute(o_.db).parent_path() / "STOP").string());
  if (why.empty()) return true;
  s_.stop = true;
  s_.stop_reason = std::move(why);
  return false;
}

archive::LedgerEntry Search::Ledger(const Agent& a, const AgentReply* r, const AgentError* e) const {
  archive::LedgerEntry l;
  l.run_id = s_.run_id;
  l.model = LedgerName(a);
  if (r) {
    l.tokens_in = r->tokens_in;
    l.tokens_out = r->tokens_out;
    l.cost_usd = r->cost_usd;
    l.latency_s = r->latency_s;
    l.outcome = r->usage_reported ? "ok" : "ok_no_usage";
  } else if (e) {
    l.tokens_in = e->tokens_in;
    l.tokens_out = e->tokens_out;
    l.cost_usd = e->cost_usd;
    l.latency_s = e->latency_s;
    l.outcome = e->fatal ? "fatal" : "error";
    l.error = e->message.substr(0, 2000);
  }
  return l;
}

void Search::RecordFailure(std::int64_t parent, const std::string& stage, const std::string& error,
                           const std::string& proposal, const archive::LedgerEntry* ledger,
                           const std::string& recorded_key) {
  archive::Attempt at;
  at.failure = archive::FailedAttempt{s_.run_id, parent, stage, error.substr(0, 4000), proposal.substr(0, 8000)};
  if (ledger) at.ledger = *ledger;
  at.events.push_back({s_.run_id, "failure", std::nullopt, stage + ": " + error.substr(0, 300)});
  ++s_.outcomes[archive::AttemptOutcome(stage)];
  recorder_->Post([this, at = std::move(at), recorded_key](archive::Archive& a) {
    if (auto r = a.Record(at); !r) fmt::print(stderr, "ergon run: could not record a failed attempt: {}\n", r.error());
    if (!recorded_key.empty()) executor_->Recorded(recorded_key);
  });
}

bool Search::StopFileAppeared() const {
  // Only a STOP made while this run goes counts: an old one was reported at
  // the start and is ignored.
  const fs::path stopfile = fs::absolute(o_.db).parent_path() / "STOP";
  std::error_code ec;
  return fs::exists(stopfile, ec) && fs::last_write_time(stopfile, ec) >= started_file_time_;
}

evaluators::TaskEvalRequest Search::Request(const std::string& source, const std::string& suite) const {
  evaluators::TaskEvalRequest q;
  q.source = source;
  q.language = source.empty() ? "" : task_->spec().LanguageOf(source);
  q.meter = o_.meter;
  q.suite = suite;
  q.instances = static_cast<std::size_t>(o_.instances);
  q.timeout_s = o_.eval_timeout_s;
  return q;
}

double Search::ElapsedS() const {
  return s_.start.elapsed_s + std::chrono::duration<double>(Clock::now() - t0_).count();
}

}  // namespace search

SearchParts::SearchParts() = default;
SearchParts::SearchParts(SearchParts&&) noexcept = default;
SearchParts::~SearchParts() = default;

int RunSearch(const SearchOptions& options) { return RunSearch(options, SearchParts{}); }

int RunSearch(const SearchOptions& options, SearchParts parts) {
  search::Search s(options, std::move(parts));
  return s.Run();
}

}  // namespace ergon::engine
