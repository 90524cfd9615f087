#include "engine/search.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "archive/archive.h"
#include "engine/agents/agent.h"
#include "engine/evaluate.h"
#include "engine/home.h"
#include "engine/tasks.h"
#include "genome/diff.h"
#include "genome/edit.h"
#include "genome/genome.h"
#include "prompts/render.h"
#include "sandbox/sandbox.h"

namespace ergon::engine {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Ctrl-C: the one piece of process-wide state, because a signal handler can
// reach nothing else. First: finish in-flight work and stop. Second: stop now.
std::atomic<int> g_interrupts{0};
void OnInterrupt(int) {
  if (g_interrupts.fetch_add(1) >= 1) {
    static const char msg[] = "\nergon run: stopping now (in-flight work is dropped; the archive is consistent)\n";
    (void)!::write(2, msg, sizeof msg - 1);
    std::_Exit(130);
  }
}

std::string Slurp(const fs::path& p) { return ReadFile(p.string()).value_or(""); }

std::string Trunc(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : s.substr(0, n) + "\n[... truncated ...]\n";
}

// Inspirations and their parents bigger than this are summarised without
// their source (the prompt shows their intent and metrics only).
constexpr std::size_t kBigSource = 200000;

// What the prompts say of the task, from its spec.
struct PromptTask {
  std::string description, objective, edit_rules;
};

PromptTask DescribeTask(const evaluators::TaskSpec& spec) {
  PromptTask t;
  t.description = spec.description;
  t.objective = fmt::format("keep {} >= {} (the gate), then minimise {}", spec.gate_metric, spec.gate_min, spec.minimise);
  t.edit_rules = spec.whole_file ? "You may instead answer with one complete new program in a ```cpp fence: the whole "
                                   "algorithm is yours to change."
                                 : "Only code between EVOLVE-BLOCK-START and EVOLVE-BLOCK-END may change, where the "
                                   "program has such markers.";
  return t;
}

// A proposal that applied cleanly, waiting for an evaluation slot.
struct Job {
  std::int64_t parent_id = 0;
  int island = 0, generation = 0;
  std::string source, hash;
  AgentReply reply;
  archive::LedgerEntry ledger;
};

struct Shared {
  std::mutex mu;  // guards everything below and the archive connection
  std::condition_variable cv;  // queue changes, proposers finishing
  std::deque<Job> queue;       // kept slightly ahead of the evaluators
  int proposers_alive = 0;
  std::unique_ptr<archive::Archive> archive;
  std::int64_t run_id = 0;
  archive::Archive::RunTotals start;  // what the run had used before this invocation
  std::int64_t new_candidates = 0, invalid = 0, duplicates = 0, tokens = 0, calls = 0;
  int in_flight = 0;  // attempts between sampling and recording
  double cost = 0;
  std::optional<double> best_fitness;
  std::optional<std::int64_t> best_id;
  double baseline_metric = 0;
  std::string metric_name;
  std::deque<bool> recent;  // last attempts: valid?
  int offline_fallback = 0; // proposals left on the offline agent
  bool fatal = false, stop = false;
  std::string stop_reason;
  std::mt19937_64 rng;
  int next_island = 0;
  double agent_s = 0, eval_s = 0;  // time inside agents and evaluations
  double engine_s = 0;             // sampling, prompts, edits, recording
};

class Search {
 public:
  explicit Search(SearchOptions o) : o_(std::move(o)) {}
  int Run();

 private:
  bool BudgetLeft(Shared& s);  // with s.mu held
  void Proposer(int index);
  void Evaluator();
  void EvaluateJob(Job job);
  void Progress(bool final_line = false);
  void RecordFailure(std::int64_t parent, const std::string& stage, const std::string& error,
                     const std::string& proposal, const archive::LedgerEntry* ledger);
  archive::LedgerEntry Ledger(const Agent& a, const AgentReply* r, const AgentError* e) const;
  tl::expected<std::string, std::string> Prompt(const std::string& file, const std::map<std::string, std::string>& v);
  std::string Elapsed() const;
  // A request on this run's meter, instances and time limit.
  evaluators::TaskEvalRequest Request(const std::string& source, const std::string& suite) const;
  // The summary's best lines: per band of the gate metric where the task
  // declares bands, else the best adjudicated candidate.
  void PrintBest(const archive::Row& baseline);
  double ElapsedS() const { return s_.start.elapsed_s + std::chrono::duration<double>(Clock::now() - t0_).count(); }

  SearchOptions o_;
  std::unique_ptr<evaluators::Task> task_;
  PromptTask prompt_task_;
  Shared s_;
  std::unique_ptr<Agent> agent_, offline_;
  std::optional<sandbox::Sandbox> sandbox_;  // one for the whole run
  Clock::time_point t0_ = Clock::now();
  bool tty_ = false;
  int evaluators_ = 1;
};

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

bool Search::BudgetLeft(Shared& s) {
  auto stop = [&](std::string why) {
    if (!s.stop) s.stop_reason = std::move(why);
    s.stop = true;
    return false;
  };
  if (s.stop || s.fatal) return false;
  if (g_interrupts.load() > 0) return stop("interrupted (Ctrl-C): finished in-flight work");
  const fs::path stopfile = fs::absolute(o_.db).parent_path() / "STOP";
  if (fs::exists(stopfile)) return stop(fmt::format("{} exists", stopfile.string()));
  if (s.start.candidates + s.new_candidates >= o_.max_candidates)
    return stop(fmt::format("--max-candidates {} reached", o_.max_candidates));
  if (o_.max_time_s > 0 && ElapsedS() >= o_.max_time_s) return stop(fmt::format("--max-time {:.0f}s reached", o_.max_time_s));
  if (o_.max_cost_usd > 0 && s.start.cost_usd + s.cost >= o_.max_cost_usd)
    return stop(fmt::format("--max-cost ${:.2f} reached", o_.max_cost_usd));
  if (o_.max_tokens > 0 && s.start.tokens + s.tokens >= o_.max_tokens)
    return stop(fmt::format("--max-tokens {} reached", o_.max_tokens));
  // Attempts that never become candidates are bounded too: at most 10 per
  // candidate asked for, so a broken agent cannot spin for ever.
  if (s.invalid + s.duplicates > 10 * std::max<std::int64_t>(o_.max_candidates, 1) + 20)
    return stop("too many failed attempts (circuit breaker)");
  return true;
}

archive::LedgerEntry Search::Ledger(const Agent& a, const AgentReply* r, const AgentError* e) const {
  archive::LedgerEntry l;
  l.run_id = s_.run_id;
  l.model = a.name() + "/" + a.model();
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
                           const std::string& proposal, const archive::LedgerEntry* ledger) {
  archive::Attempt at;
  at.failure = archive::FailedAttempt{s_.run_id, parent, stage, error.substr(0, 4000), proposal.substr(0, 8000)};
  if (ledger) at.ledger = *ledger;
  at.events.push_back({s_.run_id, "failure", std::nullopt, stage + ": " + error.substr(0, 300)});
  auto r = s_.archive->Record(at);
  if (!r) fmt::print(stderr, "ergon run: could not record a failed attempt: {}\n", r.error());
}

void Search::Progress(bool final_line) {
  const std::int64_t done = s_.start.candidates + s_.new_candidates;
  std::string best = "-";
  if (s_.best_fitness && s_.baseline_metric > 0)
    best = fmt::format("{} {:.4g} ({:.3f}x baseline)", s_.metric_name, -*s_.best_fitness, -*s_.best_fitness / s_.baseline_metric);
  const double mins = std::max(ElapsedS() - s_.start.elapsed_s, 1e-9) / 60;
  const double rate = static_cast<double>(s_.new_candidates) / mins;
  const std::int64_t left = o_.max_candidates - done;
  std::string eta = rate > 0 && left > 0 ? fmt::format("{:.0f}m", static_cast<double>(left) / rate) : "-";
  std::string line = fmt::format("[{}] candidates {}/{}  invalid {}  dup {}  best {}  spend ${:.4f} ({} tok)  {:.1f}/min  ETA {}",
                                 Elapsed(), done, o_.max_candidates, s_.invalid, s_.duplicates, best,
                                 s_.start.cost_usd + s_.cost, s_.start.tokens + s_.tokens, rate, eta);
  if (tty_ && !final_line) fmt::print(stderr, "\r\033[K{}", line);
  else fmt::print(stderr, "{}{}\n", tty_ ? "\r\033[K" : "", line);
}

void Search::Proposer(int index) {
  std::uint64_t local_seed;
  {
    std::lock_guard<std::mutex> l(s_.mu);
    local_seed = s_.rng() ^ static_cast<std::uint64_t>(index);
  }
  std::mt19937_64 rng(local_seed);
  for (;;) {
    const auto engine0 = Clock::now();
    double engine_excluded = 0;  // agent time inside this stretch
    // 1. Sample, under the lock (one archive connection).
    std::int64_t parent_id = 0;
    int island = 0;
    std::optional<archive::Row> parent;
    std::vector<archive::Row> insp_rows;
    std::vector<std::pair<std::string, std::string>> failures;
    bool use_offline = false;
    {
      std::unique_lock<std::mutex> l(s_.mu);
      if (!BudgetLeft(s_)) return;
      // Hard candidate budget: attempts in flight count against it until
      // they land (or fail, freeing their place).
      if (s_.start.candidates + s_.new_candidates + s_.in_flight >= o_.max_candidates) {
        l.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      ++s_.in_flight;
      island = s_.next_island++ % std::max(o_.islands, 1);
      auto p = s_.archive->SampleParent(o_.task, island, s_.rng);
      if (!p || !*p) {
        auto b = s_.archive->Baseline(o_.task);
        if (!b || !*b) {
          --s_.in_flight;
          return;
        }
        parent_id = (*b)->candidate.id;
        island = (*b)->candidate.island;
      } else {
        parent_id = **p;
      }
      auto row = s_.archive->Get(parent_id);
      if (!row || !*row) {
        --s_.in_flight;
        return;
      }
      parent = **row;
      if (auto ins = s_.archive->SampleInspirations(o_.task, parent_id, 3, s_.rng))
        for (auto id : *ins)
          if (auto r = s_.archive->Get(id, kBigSource); r && *r) insp_rows.push_back(**r);
      if (auto f = s_.archive->RecentFailures(parent_id, 3)) failures = *f;
      if (s_.offline_fallback > 0) {
        --s_.offline_fallback;
        use_offline = true;
      }
      // Children of a migrant land in this island: make sure it is a member.
      if (parent->candidate.island != island) (void)s_.archive->Share(parent_id, island);
    }
    struct InFlight {
      Shared& s;
      bool handed_off = false;  // an evaluator owns the attempt now
      ~InFlight() {
        if (handed_off) return;
        std::lock_guard<std::mutex> l(s.mu);
        --s.in_flight;
        s.cv.notify_all();
      }
    } in_flight_guard{s_};
    auto parent_genome = genome::Genome::Parse(parent->candidate.source);
    if (!parent_genome) {
      std::lock_guard<std::mutex> l(s_.mu);
      RecordFailure(parent_id, "parent", parent_genome.error(), "", nullptr);
      ++s_.invalid;
      continue;
    }
    std::vector<genome::Genome> insp_genomes;
    std::string insp_text;
    for (const auto& r : insp_rows) {
      // Recombination needs knobs; megabyte generated sources have none (and
      // were not even read: see kBigSource).
      if (!r.candidate.source.empty())
        if (auto g = genome::Genome::Parse(r.candidate.source)) insp_genomes.push_back(*g);
      std::string diff = "(root)";
      std::string change;
      if (r.candidate.parent) {
        std::lock_guard<std::mutex> l(s_.mu);
        if (auto pr = s_.archive->Get(*r.candidate.parent, kBigSource); pr && *pr) {
          genome::DiffOptions d;
          d.from_name = fmt::format("candidate {}", *r.candidate.parent);
          d.to_name = fmt::format("candidate {}", r.candidate.id);
          const bool huge = (*pr)->candidate.source_bytes > 200000 || r.candidate.source_bytes > 200000;
          diff = huge ? std::string("(a generated source too large to diff)\n")
                      : Trunc(genome::UnifiedDiff((*pr)->candidate.source, r.candidate.source, d), 3000);
          if ((*pr)->best && r.best) change = fmt::format(" ({} -> {})", DescribeMetrics(task_->spec(), (*pr)->best), DescribeMetrics(task_->spec(), r.best));
        }
      }
      insp_text += fmt::format("- candidate {}: \"{}\"{}\n{}\n", r.candidate.id, Trunc(r.candidate.intent, 200), change, diff);
    }
    std::string fail_text;
    for (const auto& [stage, err] : failures) fail_text += fmt::format("- {}: {}\n", stage, Trunc(err, 600));

    // 2. Prompt.
    std::map<std::string, std::string> vars = {
        {"task_name", o_.task}, {"task_description", prompt_task_.description}, {"objective", prompt_task_.objective},
        {"edit_rules", prompt_task_.edit_rules}, {"parent_id", std::to_string(parent_id)},
        {"parent_metrics", DescribeMetrics(task_->spec(), parent->best)}, {"parent_source", Trunc(parent->candidate.source, 60000)},
        {"inspirations", insp_text.empty() ? "(none yet)\n" : insp_text},
        {"failures", fail_text.empty() ? "(none)\n" : fail_text}};
    auto system = Prompt("system.txt", vars);
    auto user = Prompt("mutate.txt", vars);
    if (!system || !user) {
      std::lock_guard<std::mutex> l(s_.mu);
      s_.fatal = true;
      s_.stop_reason = !system ? system.error() : user.error();
      return;
    }
    AgentRequest req;
    req.task = o_.task;
    req.parent = &*parent_genome;
    for (const auto& g : insp_genomes) req.inspirations.push_back(&g);
    req.conversation = {{"system", *system}, {"user", *user}};
    req.seed = rng();
    Agent& agent = use_offline ? *offline_ : *agent_;

    // 3. Propose, apply; edit failures go back to the agent a few times.
    std::optional<genome::Genome> child;
    AgentReply last_reply;
    std::vector<archive::LedgerEntry> ledgers;
    genome::EditPolicy policy;
    policy.allow_whole_file = task_->spec().whole_file;
    for (int turn = 0; turn <= o_.repair_turns && !child; ++turn) {
      std::int64_t call_id = 0;
      {
        std::lock_guard<std::mutex> l(s_.mu);
        if (auto id = s_.archive->BeginCall(s_.run_id, agent.name() + "/" + agent.model())) call_id = *id;
      }
      const auto a0 = Clock::now();
      auto reply = agent.Propose(req);
      const double took = std::chrono::duration<double>(Clock::now() - a0).count();
      engine_excluded += took;
      std::lock_guard<std::mutex> l(s_.mu);
      s_.agent_s += took;
      ++s_.calls;
      if (!reply) {
        auto led = Ledger(agent, nullptr, &reply.error());
        led.id = call_id;
        s_.tokens += led.tokens_in + led.tokens_out;
        s_.cost += led.cost_usd;
        RecordFailure(parent_id, "agent", reply.error().message, "", &led);
        ++s_.invalid;
        s_.recent.push_back(false);
        if (reply.error().fatal) {
          s_.fatal = true;
          s_.stop_reason = "agent error: " + reply.error().message;
        }
        break;
      }
      auto led = Ledger(agent, &*reply, nullptr);
      led.id = call_id;
      s_.tokens += led.tokens_in + led.tokens_out;
      s_.cost += led.cost_usd;
      last_reply = *reply;
      auto applied = genome::ApplyProposal(*parent_genome, reply->text, policy);
      if (applied) {
        child = *applied;
        ledgers.push_back(led);
        break;
      }
      RecordFailure(parent_id, std::string("edit/") + genome::EditErrorName(applied.error().kind),
                    applied.error().message, reply->text, &led);
      ++s_.invalid;
      s_.recent.push_back(false);
      req.conversation.push_back({"assistant", reply->text});
      auto repair = Prompt("repair.txt", {{"error", applied.error().message}});
      if (!repair) break;
      req.conversation.push_back({"user", *repair});
      req.seed = rng();
    }
    if (!child) {
      std::lock_guard<std::mutex> l(s_.mu);
      while (s_.recent.size() > 10) s_.recent.pop_front();
      int bad = static_cast<int>(std::count(s_.recent.begin(), s_.recent.end(), false));
      if (s_.recent.size() >= 10 && bad >= 8 && !use_offline && o_.agent != "offline" && s_.offline_fallback == 0) {
        fmt::print(stderr, "\nergon run: {} of the last 10 attempts were invalid; backing off to the offline agent "
                   "for the next 5 proposals\n", bad);
        s_.offline_fallback = 5;
      }
      continue;
    }

    // 4. Duplicates are not re-evaluated.
    const std::string hash = child->Hash();
    {
      std::lock_guard<std::mutex> l(s_.mu);
      auto dup = s_.archive->FindByHash(o_.task, hash);
      if (dup && *dup) {
        RecordFailure(parent_id, "duplicate", fmt::format("same source as candidate {}", **dup), last_reply.text,
                      &ledgers.front());
        ++s_.duplicates;
        continue;
      }
    }

    // 5. Hand the child to an evaluation slot; wait while the queue is full
    //    (proposals are kept slightly ahead of evaluations, not far).
    {
      std::unique_lock<std::mutex> l(s_.mu);
      s_.engine_s += std::chrono::duration<double>(Clock::now() - engine0).count() - engine_excluded;
      const std::size_t cap = static_cast<std::size_t>(evaluators_) + 1;
      s_.cv.wait(l, [&] { return s_.queue.size() < cap || s_.fatal; });
      if (s_.fatal) return;
      Job job;
      job.parent_id = parent_id;
      job.island = island;
      job.generation = parent->candidate.generation + 1;
      job.source = child->source();
      job.hash = hash;
      job.reply = last_reply;
      job.ledger = ledgers.front();
      s_.queue.push_back(std::move(job));
      in_flight_guard.handed_off = true;
      s_.cv.notify_all();
    }
  }
}

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
    EvaluateJob(std::move(job));
    std::lock_guard<std::mutex> l(s_.mu);
    --s_.in_flight;
    s_.cv.notify_all();
  }
}

void Search::EvaluateJob(Job job) {
  const std::int64_t parent_id = job.parent_id;
  const int island = job.island;
  const std::string& hash = job.hash;
  const AgentReply& last_reply = job.reply;
  {
    // 5. Evaluate on the task's fixed suite.
    evaluators::TaskEvalRequest q = Request(job.source, "dev");
    const auto e0 = Clock::now();
    const evaluators::Measurement out = Evaluate(*task_, q, &*sandbox_).m;
    const double eval_took = std::chrono::duration<double>(Clock::now() - e0).count();

    // 6. Record: candidate, evaluation, ledger, events in one transaction.
    std::optional<std::int64_t> child_id;
    bool adjudicate = false;
    {
      std::lock_guard<std::mutex> l(s_.mu);
      const auto r0 = Clock::now();
      struct Timed {
        double& acc;
        Clock::time_point t0;
        ~Timed() { acc += std::chrono::duration<double>(Clock::now() - t0).count(); }
      } timed{s_.engine_s, r0};
      s_.eval_s += eval_took;
      archive::Attempt at;
      archive::Candidate c;
      c.run_id = s_.run_id;
      c.task = o_.task;
      c.parent = parent_id;
      c.island = island;
      c.generation = job.generation;
      c.source = job.source;
      c.hash = hash;
      c.edit = last_reply.text.substr(0, 20000);
      c.intent = last_reply.intent.substr(0, 1000);
      c.status = out.ran ? "evaluated" : "failed";
      if (out.harness_error) {
        // The task's own harness broke: not the candidate's fault, and every
        // later evaluation would break alike. Record why and stop.
        RecordFailure(parent_id, "harness", out.error, last_reply.text, &job.ledger);
        if (!s_.fatal) {
          s_.fatal = true;
          s_.stop_reason = "the task's harness failed (not the candidate): " + out.error.substr(0, 2000);
        }
        s_.cv.notify_all();
        return;
      }
      at.candidate = c;
      const archive::Evaluation ev = ToEvaluation(out);
      at.evaluations.push_back(ev);
      at.objectives = out.objectives;
      at.cell = out.cell;
      at.ledger = job.ledger;
      const bool better = out.ran && ev.gate_passed && (!s_.best_fitness || ev.fitness > *s_.best_fitness);
      // Another slot may have recorded the same source meanwhile.
      if (auto dup = s_.archive->FindByHash(o_.task, hash); dup && *dup) {
        RecordFailure(parent_id, "duplicate", fmt::format("same source as candidate {}", **dup), last_reply.text,
                      &job.ledger);
        ++s_.duplicates;
        return;
      }
      if (!out.ran) at.events.push_back({s_.run_id, "failure", std::nullopt, out.stage + ": " + out.error.substr(0, 300)});
      auto id = s_.archive->Record(at);
      if (!id) {
        fmt::print(stderr, "\nergon run: could not record a candidate: {}\n", id.error());
        s_.fatal = true;
        s_.stop_reason = "archive write failed: " + id.error();
        return;
      }
      child_id = *id;
      ++s_.new_candidates;
      if (!out.ran) ++s_.invalid;
      s_.recent.push_back(out.ran);
      while (s_.recent.size() > 10) s_.recent.pop_front();
      adjudicate = better;
      if (s_.new_candidates % 10 == 0 && o_.islands > 1) (void)s_.archive->Migrate(o_.task, o_.islands);
      archive::Attempt tick;
      tick.events.push_back({s_.run_id, "elapsed", std::nullopt, fmt::format("{:.3f}", ElapsedS())});
      (void)s_.archive->Record(tick);
      Progress();
    }

    // 7. A new best is adjudicated on a fresh suite (new secret seeds).
    if (adjudicate) {
      evaluators::TaskEvalRequest f = q;
      f.suite = "fresh";
      const auto f0 = Clock::now();
      const evaluators::Measurement fresh = Evaluate(*task_, f, &*sandbox_).m;
      std::lock_guard<std::mutex> l(s_.mu);
      s_.eval_s += std::chrono::duration<double>(Clock::now() - f0).count();
      archive::Attempt at;
      at.existing_candidate = *child_id;
      const archive::Evaluation fresh_ev = ToEvaluation(fresh);
      at.evaluations.push_back(fresh_ev);
      const bool holds = fresh.ran && fresh.gate_passed;
      const archive::Evaluation ev = ToEvaluation(out);
      if (holds) {
        if (!s_.best_fitness || ev.fitness > *s_.best_fitness) {  // slots adjudicate out of order
          s_.best_fitness = ev.fitness;
          s_.best_id = *child_id;
        }
        at.events.push_back({s_.run_id, "improvement", *child_id,
                             fmt::format("new best: {} (fresh suite agrees)", DescribeMetrics(task_->spec(), ev))});
      } else {
        at.events.push_back({s_.run_id, "overfit", *child_id,
                             fmt::format("passes on dev, fails on a fresh suite: {}", fresh.ran ? DescribeMetrics(task_->spec(), fresh_ev) : fresh.error)});
      }
      (void)s_.archive->Record(at);
      if (!holds) (void)s_.archive->MarkStatus(*child_id, "overfit");
      if (!tty_) Progress();
    }
  }
}

evaluators::TaskEvalRequest Search::Request(const std::string& source, const std::string& suite) const {
  evaluators::TaskEvalRequest q;
  q.source = source;
  q.language = source.empty() ? "" : LanguageOf(task_->spec(), source);
  q.meter = o_.meter;
  q.suite = suite;
  q.instances = static_cast<std::size_t>(o_.instances);
  q.timeout_s = o_.eval_timeout_s;
  return q;
}

void Search::PrintBest(const archive::Row& b) {
  const evaluators::TaskSpec& spec = task_->spec();
  if (!spec.bands.empty()) {
    auto rows = s_.archive->List({std::nullopt, o_.task, "evaluated", 0});
    for (double band : spec.bands) {
      std::optional<archive::Row> best;
      std::optional<double> best_v;
      if (rows)
        for (const auto& r : *rows) {
          if (!r.best) continue;
          auto g = r.best->metrics.Get(spec.gate_metric);
          auto v = r.best->metrics.Get(s_.metric_name);
          if (g && v && *g >= band && (!best_v || *v < *best_v)) {
            best = r;
            best_v = v;
          }
        }
      if (best)
        fmt::print("best at {} >= {:.1f}: candidate {}  {} {:.6g}  ({:.3f}x the baseline's)\n", spec.gate_metric, band,
                   best->candidate.id, s_.metric_name, *best_v, s_.baseline_metric > 0 ? *best_v / s_.baseline_metric : 0.0);
    }
    return;
  }
  (void)b;
  if (auto top = s_.archive->Top(o_.task, "fitness", 1); top && !top->empty() && top->front().best) {
    const auto& t = top->front();
    auto v = t.best->metrics.Get(s_.metric_name);
    fmt::print("best (gate passed, adjudicated): candidate {}  {}  = {:.3f}x the baseline's {}\n", t.candidate.id,
               DescribeMetrics(spec, t.best), v && s_.baseline_metric > 0 ? *v / s_.baseline_metric : 0.0,
               s_.metric_name);
  }
}

int Search::Run() {
  tty_ = ::isatty(2) && !std::getenv("NO_COLOR") && std::string(std::getenv("TERM") ? std::getenv("TERM") : "dumb") != "dumb";
  auto registry = evaluators::TaskRegistry::Load(o_.home, o_.tasks_dirs);
  auto task = registry.Open(o_.task);
  if (!task) {
    fmt::print(stderr, "ergon run: {}\n", task.error());
    return 2;
  }
  task_ = std::move(*task);
  prompt_task_ = DescribeTask(task_->spec());
  if (auto why = task_->CheckRequest(Request("", "dev")); !why.empty()) {
    fmt::print(stderr, "ergon run: {}\n", why);
    return 2;
  }
  auto sb = sandbox::Sandbox::Create();
  if (!sb) {
    fmt::print(stderr, "ergon run: {}\n", sb.error());
    return 1;
  }
  sandbox_ = std::move(*sb);
  // The agent.
  const evaluators::Task* t = task_.get();
  auto hooks = [&] {
    return TaskHooks{t->MakeTransform(&*sandbox_), [t](const std::string& src) { return t->OriginOf(src); }};
  };
  offline_ = MakeOfflineAgent(hooks());
  if (o_.agent == "offline") {
    agent_ = MakeOfflineAgent(hooks());
  } else if (o_.agent == "openai" || o_.agent == "anthropic") {
    HttpAgentOptions h;
    h.kind = o_.agent;
    const bool openai = o_.agent == "openai";
    h.base_url = !o_.base_url.empty() ? o_.base_url : (openai ? "https://api.openai.com/v1" : "https://api.anthropic.com");
    h.model = !o_.model.empty() ? o_.model : (openai ? "gpt-4o-mini" : "claude-3-5-haiku-latest");
    const char* key = std::getenv(openai ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY");
    h.api_key = key ? key : "";
    if (h.api_key.empty() && o_.base_url.empty()) {
      fmt::print(stderr, "ergon run: set {} (or point --base-url at a local server)\n",
                 openai ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY");
      return 2;
    }
    h.timeout_s = o_.agent_timeout_s;
    h.backoff_s = o_.agent_backoff_s;
    h.price_in = o_.price_in;
    h.price_out = o_.price_out;
    agent_ = MakeHttpAgent(h);
  } else if (o_.agent == "cli") {
    if (o_.command.empty()) {
      fmt::print(stderr, "ergon run: --agent cli needs --command, e.g. --command \"claude -p\"\n");
      return 2;
    }
    agent_ = MakeCliAgent(o_.command, o_.agent_timeout_s);
  } else {
    fmt::print(stderr, "ergon run: unknown agent '{}' (offline | openai | anthropic | cli)\n", o_.agent);
    return 2;
  }

  auto opened = archive::Archive::Open(o_.db);
  if (!opened) {
    fmt::print(stderr, "ergon run: {}\n", opened.error());
    return 1;
  }
  s_.archive = std::move(*opened);
  s_.rng.seed(o_.seed);
  if (o_.resume) {
    auto run = s_.archive->GetRun(*o_.resume);
    if (!run || !*run) {
      fmt::print(stderr, "ergon run: no run {} in {} (`ergon archive runs` lists them)\n", *o_.resume, o_.db);
      return 2;
    }
    if ((*run)->task != o_.task) {
      fmt::print(stderr, "ergon run: run {} is a {} run, not {}\n", *o_.resume, (*run)->task, o_.task);
      return 2;
    }
    s_.run_id = *o_.resume;
    if (auto lost = s_.archive->CloseLostCalls(s_.run_id); lost && *lost > 0)
      fmt::print(stderr, "ergon run: {} agent call(s) were in flight when the run stopped: kept in the ledger as lost\n", *lost);
    auto t = s_.archive->Totals(s_.run_id);
    if (!t) {
      fmt::print(stderr, "ergon run: {}\n", t.error());
      return 1;
    }
    s_.start = *t;
    s_.rng.seed(o_.seed + static_cast<std::uint64_t>(t->candidates + t->attempts) * 7919);
    fmt::print(stderr, "ergon run: resuming run {}: {} candidates, {} failed attempts, ${:.4f}, {:.0f}s so far\n",
               s_.run_id, t->candidates, t->attempts, t->cost_usd, t->elapsed_s);
  } else {
    json settings = {{"agent", o_.agent}, {"model", agent_->model()}, {"max_candidates", o_.max_candidates},
                     {"max_time_s", o_.max_time_s}, {"max_cost_usd", o_.max_cost_usd}, {"max_tokens", o_.max_tokens},
                     {"islands", o_.islands}, {"seed", o_.seed}, {"meter", o_.meter}, {"evaluators", o_.evaluators}};
    auto id = s_.archive->BeginRun({0, o_.task, o_.agent, agent_->model(), settings.dump(), 0, 0, "running"});
    if (!id) {
      fmt::print(stderr, "ergon run: {}\n", id.error());
      return 1;
    }
    s_.run_id = *id;
  }
  // The baseline, once per archive.
  auto base = s_.archive->Baseline(o_.task);
  if (!base) {
    fmt::print(stderr, "ergon run: {}\n", base.error());
    return 1;
  }
  if (!*base) {
    fmt::print(stderr, "ergon run: evaluating the {} baseline first...\n", o_.task);
    const std::string src = Slurp(fs::path(task_->spec().dir) / task_->spec().baseline);
    const evaluators::Measurement out = Evaluate(*task_, Request(src, "dev"), &*sandbox_).m;
    if (!out.ran) {
      fmt::print(stderr, "ergon run: the baseline does not run: {}{} ({})\n",
                 out.harness_error ? "the task's harness failed: " : "", out.error, out.stage);
      if (!out.feedback.empty()) fmt::print(stderr, "{}\n", out.feedback.substr(0, 2000));
      return 1;
    }
    archive::Attempt at;
    archive::Candidate c;
    c.run_id = s_.run_id;
    c.task = o_.task;
    c.source = src;
    c.hash = genome::ContentHash(src);
    c.intent = "the task's baseline";
    at.candidate = c;
    at.evaluations.push_back(ToEvaluation(out));
    at.objectives = out.objectives;
    at.cell = out.cell;
    at.events.push_back({s_.run_id, "baseline", std::nullopt, out.text.substr(0, 300)});
    auto id = s_.archive->Record(at);
    if (!id) {
      fmt::print(stderr, "ergon run: {}\n", id.error());
      return 1;
    }
    for (int i = 1; i < o_.islands; ++i) (void)s_.archive->Share(*id, i);
    base = s_.archive->Baseline(o_.task);
    fmt::print(stderr, "ergon run: baseline: {}\n", out.text.substr(0, out.text.find('\n')));
  }
  const archive::Row& b = **base;
  if (b.best) {
    s_.metric_name = MainMetric(task_->spec(), *b.best);
    s_.baseline_metric = b.best->metrics.Get(s_.metric_name).value_or(0);
    if (b.best->gate_passed) s_.best_fitness = b.best->fitness;
  }
  // The best so far (after a resume, or from earlier runs of this archive).
  if (auto top = s_.archive->Top(o_.task, "fitness", 1); top && !top->empty() && top->front().best) {
    s_.best_fitness = top->front().best->fitness;
    s_.best_id = top->front().candidate.id;
  }

  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  int workers = o_.evaluators > 0 ? o_.evaluators
                                  : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if ((o_.meter.empty() ? task_->spec().meter : o_.meter) == "nvml") workers = 1;  // one GPU: one evaluation at a time
  evaluators_ = workers;
  const int proposers = o_.proposals > 0 ? o_.proposals : workers;
  fmt::print(stderr, "ergon run: run {} on {} with the {} agent ({}): {} proposal(s) in flight, {} evaluation slot(s), "
             "{} island(s); archive {}\n",
             s_.run_id, o_.task, o_.agent, agent_->model(), proposers, workers, o_.islands, o_.db);
  s_.proposers_alive = proposers;
  std::vector<std::thread> pool;
  for (int i = 0; i < proposers; ++i)
    pool.emplace_back([this, i] {
      Proposer(i);
      std::lock_guard<std::mutex> l(s_.mu);
      --s_.proposers_alive;
      s_.cv.notify_all();
    });
  for (int i = 0; i < workers; ++i) pool.emplace_back([this] { Evaluator(); });
  for (auto& t : pool) t.join();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);

  // Summary.
  const double wall = std::chrono::duration<double>(Clock::now() - t0_).count();
  archive::Attempt tick;
  tick.events.push_back({s_.run_id, "elapsed", std::nullopt, fmt::format("{:.3f}", ElapsedS())});
  tick.events.push_back({s_.run_id, s_.fatal ? "fatal" : "budget_stop", std::nullopt, s_.stop_reason});
  (void)s_.archive->Record(tick);
  (void)s_.archive->EndRun(s_.run_id, s_.fatal ? "failed" : (g_interrupts.load() > 0 ? "stopped" : "done"));
  Progress(true);
  fmt::print(stderr, "\nergon run: stopped: {}\n", s_.stop_reason.empty() ? "budget reached" : s_.stop_reason);
  fmt::print("run {} ({}, agent {}): {} new candidates, {} invalid attempts, {} duplicates, {} agent calls, ${:.4f}, "
             "wall {:.1f}s\n",
             s_.run_id, o_.task, o_.agent, s_.new_candidates, s_.invalid, s_.duplicates, s_.calls, s_.cost, wall);
  fmt::print("time: evaluations {:.1f}s over {} slot(s) ({:.0f}% busy), agent calls {:.1f}s; engine work (sampling, "
             "prompts, edits, recording) {:.2f}s = {:.1f}% of wall time\n",
             s_.eval_s, workers, 100.0 * s_.eval_s / (wall * workers), s_.agent_s, s_.engine_s, 100.0 * s_.engine_s / wall);
  if (b.best)
    fmt::print("baseline: candidate {}  {}\n", b.candidate.id, DescribeMetrics(task_->spec(), b.best));
  PrintBest(b);
  if (auto led = s_.archive->Ledger())
    for (const auto& l : *led)
      if (l.run_id == s_.run_id)
        fmt::print("spend: {}  {} calls  {} tokens in  {} out  ${:.4f}  {} failed\n", l.model, l.calls, l.tokens_in,
                   l.tokens_out, l.cost_usd, l.failures);
  const std::string db = o_.db == "ergon.db" ? "" : " --db " + o_.db;
  fmt::print("inspect: ergon archive top --task {}{}   |   ergon archive lineage ID{}   |   ergon replay ID{}\n", o_.task,
             db, db, db);
  if (!s_.fatal && !o_.resume && g_interrupts.load() > 0)
    fmt::print("resume:  ergon run --task {} --resume {}{}\n", o_.task, s_.run_id, db);
  return s_.fatal ? 1 : 0;
}

}  // namespace

int RunSearch(const SearchOptions& options) {
  Search s(options);
  return s.Run();
}

}  // namespace ergon::engine
