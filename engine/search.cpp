// `ergon run`: set-up, the worker threads, and the summary. The loop itself
// is in search_propose.cpp (proposers) and search_evaluate.cpp (evaluation
// slots); search_loop.h holds the state they share.
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

// The agent asked for, and the offline agent the circuit breaker falls back to.
// One HTTP agent for a --model value: [openai:|anthropic:]NAME[@BASE_URL].
tl::expected<std::unique_ptr<Agent>, std::string> Search::MakeModelAgent(const std::string& spec) const {
  std::string kind = o_.agent, name = spec, base = o_.base_url;
  for (const char* k : {"openai", "anthropic"})
    if (name.rfind(std::string(k) + ":", 0) == 0) {
      kind = k;
      name = name.substr(std::string(k).size() + 1);
    }
  if (const auto at = name.find("@http"); at != std::string::npos) {
    base = name.substr(at + 1);
    name = name.substr(0, at);
  }
  HttpAgentOptions h;
  h.kind = kind;
  const bool openai = kind == "openai";
  h.base_url = !base.empty() ? base : (openai ? "https://api.openai.com/v1" : "https://api.anthropic.com");
  h.model = !name.empty() ? name : (openai ? "gpt-4o-mini" : "claude-3-5-haiku-latest");
  const char* key = std::getenv(openai ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY");
  h.api_key = key ? key : "";
  if (h.api_key.empty() && base.empty())
    return tl::unexpected(fmt::format("set {} (or point --base-url at a local server)",
                                      openai ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY"));
  h.timeout_s = o_.agent_timeout_s;
  h.backoff_s = o_.agent_backoff_s;
  h.price_in = o_.price_in;
  h.price_out = o_.price_out;
  if (auto ok = ApplyAgentParams(o_.agent_params, h); !ok) return tl::unexpected(ok.error());
  return MakeHttpAgent(h);
}

int Search::StartAgents() {
  const evaluators::Task* t = task_.get();
  auto hooks = [&] {
    return TaskHooks{t->MakeTransform(&*sandbox_), t->TransformIdea(),
                     [t](const std::string& src) { return t->OriginOf(src); }};
  };
  offline_ = MakeOfflineAgent(hooks());
  if (!parts_.agents.empty()) {
    agents_ = std::move(parts_.agents);
  } else if (o_.agent == "offline") {
    agents_.push_back(MakeOfflineAgent(hooks()));
  } else if (o_.agent == "openai" || o_.agent == "anthropic") {
    // libcurl is loaded (and initialised) here, before any thread uses it:
    // only runs that talk HTTP pay for it.
    if (auto curl = LoadCurl(); !curl) {
      fmt::print(stderr, "ergon run: {}\n", curl.error());
      return 1;
    }
    std::vector<std::string> specs = o_.models;
    if (specs.empty()) specs.push_back("");
    for (const auto& spec : specs) {
      auto agent = MakeModelAgent(spec);
      if (!agent) {
        fmt::print(stderr, "ergon run: {}\n", agent.error());
        return 2;
      }
      agents_.push_back(std::move(*agent));
    }
  } else if (o_.agent == "cli") {
    if (o_.command.empty()) {
      fmt::print(stderr, "ergon run: --agent cli needs --command, e.g. --command \"claude -p\"\n");
      return 2;
    }
    agents_.push_back(MakeCliAgent(o_.command, o_.agent_timeout_s));
  } else {
    fmt::print(stderr, "ergon run: unknown agent '{}' (offline | openai | anthropic | cli)\n", o_.agent);
    return 2;
  }

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

// A spend budget is only a budget when the price is known.
std::string Search::PriceProblem() const {
  if (o_.max_cost_usd <= 0 || (o_.agent != "openai" && o_.agent != "anthropic")) return {};
  if (o_.price_in >= 0 && o_.price_out >= 0) return {};
  for (const auto& a : agents_)
    if (!LookupModel(a->model()).known)
      return fmt::format("--max-cost needs prices, and ergon's table has none for model '{}': give --price-in and "
                         "--price-out (USD per million tokens)", a->model());
  return {};
}

void Search::LoadNoveltyIndex() {
  if (o_.novelty <= 0) return;
  novelty_.emplace(o_.novelty);
  if (auto src = recorder_->Direct().Sources(o_.task, kBigSource, 5000, scope_))
    for (const auto& [id, text] : *src) novelty_->Add(id, text);
}

void Search::RestoreBandit() {
  if (agents_.size() < 2) return;
  std::vector<std::string> names;
  for (const auto& a : agents_) names.push_back(LedgerName(*a));
  auto led = recorder_->Direct().Ledger();
  base::MutexLock l(&s_.mu);
  bandit_.emplace(names);
  if (!led) return;
  std::string told;
  for (const auto& e : *led)
    if (e.run_id == s_.run_id && bandit_->Find(e.model) < names.size()) {
      bandit_->Restore(e.model, e.calls, e.wins, e.cost_usd);
      told += fmt::format("{}{} {} calls {} wins ${:.4f}", told.empty() ? "" : "; ", e.model, e.calls, e.wins,
                          e.cost_usd);
    }
  if (!told.empty()) fmt::print(stderr, "ergon run: model bandit, from the archive: {}\n", told);
}

std::string Search::ModelNames() const {
  std::string s;
  for (const auto& a : agents_) s += (s.empty() ? "" : ",") + a->model();
  return s;
}

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

std::string Search::Elapsed() const {
  double t = ElapsedS();
  return t < 120 ? fmt::format("{:.0f}s", t) : fmt::format("{:.0f}m{:02.0f}s", std::floor(t / 60), std::fmod(t, 60));
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
