// The search loop's insides, shared by its files:
//   search.cpp          set-up and the worker threads
//   search_agents.cpp   the agents, their prices and the model bandit
//   search_resume.cpp   what --resume keeps of the stored settings
//   search_summary.cpp  the progress line and the summary
//   search_propose.cpp  a proposer: sample, prompt, propose, dedupe, queue
//   search_evaluate.cpp an evaluation slot: measure, record, adjudicate
//   recorder.h          the one writer; budget.h when the run stops
// Internal to engine/; search.h is the public face.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include "archive/archive.h"
#include "engine/agents/agent.h"
#include "engine/executor/executor.h"
#include "engine/model_bandit.h"
#include "engine/novelty_index.h"
#include "engine/recorder.h"
#include "engine/reintroduced.h"
#include "engine/search.h"
#include "base/mutex.h"
#include "evaluators/task.h"
#include "sandbox/sandbox.h"

namespace ergon::engine::search {

using Clock = std::chrono::steady_clock;

// Ctrl-C and SIGTERM so far (the one process-wide state: a signal handler
// can reach nothing else).
int Interrupts();
void InstallInterruptHandlers();
void RemoveInterruptHandlers();

// Inspirations and their parents bigger than this are summarised without
// their source (the prompt shows their intent and metrics only).
constexpr std::size_t kBigSource = 200000;

// A proposal that applied cleanly, waiting for an evaluation slot.
struct Job {
  std::int64_t parent_id = 0;
  int island = 0, generation = 0;
  std::string source, hash;
  AgentReply reply;
  archive::LedgerEntry ledger;
  // The parent as sampled: a child that passes the gate and beats it is a
  // win for the model that proposed it.
  bool parent_gate = false;
  double parent_fitness = 0;
  Reintroduction reintroduced;  // of the lines the proposal added
};

// What proposers and evaluation slots share: the queue between them and the
// run's counters. One mutex guards it, and nothing slow runs under it: no
// archive call (the Recorder owns the connection; proposers read through
// their own), no file stat (the monitor looks for STOP outside it), no
// megabyte copy.
struct Shared {
  base::Mutex mu;
  base::CondVar cv{&mu};  // the queue changed, a proposer finished, a fatal stop
  std::deque<Job> queue GUARDED_BY(mu);  // kept slightly ahead of the evaluators
  int proposers_alive GUARDED_BY(mu) = 0;
  bool stop_file GUARDED_BY(mu) = false;  // a STOP file appeared (the monitor looked)
  std::int64_t run_id = 0;  // set before the threads start, then read-only
  archive::Archive::RunTotals start;  // used before this invocation; read-only once threads run
  std::int64_t new_candidates GUARDED_BY(mu) = 0;
  // What became of this invocation's attempts (archive/outcome.h): counted
  // where each is recorded, in the words every view uses.
  archive::OutcomeCounts outcomes GUARDED_BY(mu);
  std::int64_t tokens GUARDED_BY(mu) = 0;
  std::int64_t calls GUARDED_BY(mu) = 0;
  int in_flight GUARDED_BY(mu) = 0;  // attempts between sampling and recording
  double cost GUARDED_BY(mu) = 0;
  std::optional<double> best_fitness GUARDED_BY(mu);
  double baseline_metric = 0;  // set before the threads start
  std::string metric_name;     // set before the threads start
  std::deque<bool> recent GUARDED_BY(mu);  // last attempts: valid?
  int offline_fallback GUARDED_BY(mu) = 0;  // proposals left on the offline agent
  std::string meta GUARDED_BY(mu);            // the digest for prompts (engine/meta_summary.h)
  std::int64_t meta_built_at GUARDED_BY(mu) = 0;  // candidates when it was built
  bool fatal GUARDED_BY(mu) = false;
  bool stop GUARDED_BY(mu) = false;
  std::string stop_reason GUARDED_BY(mu);
  int agent_errors_in_a_row GUARDED_BY(mu) = 0;  // calls that reached no usable answer
  std::int64_t infrastructure GUARDED_BY(mu) = 0;  // evaluations the cluster lost (not the candidates')
  int infrastructure_in_a_row GUARDED_BY(mu) = 0;
  Clock::time_point last_news GUARDED_BY(mu);    // last progress line (for the heartbeat)
  std::mt19937_64 rng GUARDED_BY(mu);
  int next_island GUARDED_BY(mu) = 0;
  double agent_s GUARDED_BY(mu) = 0;   // time inside agent calls
  double eval_s GUARDED_BY(mu) = 0;    // time inside evaluations
  double engine_s GUARDED_BY(mu) = 0;  // sampling, prompts, edits, recording
};

// Step 1's result: a parent to work from and what the prompt shows with it.
struct Pick {
  std::int64_t parent_id = 0;
  int island = 0;
  archive::Row parent;
  std::vector<archive::Row> inspirations;
  std::vector<archive::AttemptRow> failures;
  bool use_offline = false;
  std::size_t agent = 0;  // index into agents_
};

// Step 3's result: the child that applied, with the reply and call it came from.
struct Proposed {
  genome::Genome child;
  AgentReply reply;
  archive::LedgerEntry ledger;
  Reintroduction reintroduced;
};

class Search {
 public:
  explicit Search(SearchOptions o, SearchParts parts = {}) : o_(std::move(o)), parts_(std::move(parts)) {}
  int Run();

 private:
  // Set-up and summary (search.cpp). Each returns 0 or an exit code.
  int OpenTask();
  int StartAgents();
  tl::expected<std::unique_ptr<Agent>, std::string> MakeModelAgent(const std::string& spec) const;
  std::string ModelNames() const;  // the models, comma-separated
  // With several models: the bandit, its state from the run's ledger (start, resume).
  void RestoreBandit();
  // The agent for the next proposal (with s_.mu held).
  std::size_t ChooseAgent() REQUIRES(s_.mu);
  // The digest for the next prompt, rebuilt every --meta-every candidates
  // (read through the caller's connection `db`).
  std::string MetaDigest(archive::Archive& db) EXCLUDES(s_.mu);
  int RecallTask();
  // Measures, then hands the result to the recorder.
  void EnsureBaselineFresh() EXCLUDES(s_.mu);
  std::optional<double> FreshValue(archive::Archive& db, std::int64_t candidate_id) const;
  int OpenRun();
  void KeepStoredBudgets(archive::Archive& db, const std::string& settings);
  void KeepStoredExecutor(const std::string& settings);
  int KeepStoredStrategy(const std::string& settings);
  std::string PriceProblem() const;
  int EnsureBaseline();
  // A set-up step after OpenRun failed: the run is ended as failed, with
  // set_up_error_ (or the exit code) as why. Returns rc.
  int FailedSetUp(int rc);
  int SetUpError(int rc, const std::string& why);
  int CheckTemplates();
  void RunWorkers();
  int Summarise();
  void PrintBest(archive::Archive& db);

  // A proposer (search_propose.cpp).
  // Each proposer reads the archive through a connection of its own, `db`.
  void Proposer(int index);
  enum class Sampled { kGot, kWait, kDone };
  Sampled SampleParent(archive::Archive& db, std::mt19937_64& rng, Pick& pick) EXCLUDES(s_.mu);
  // The fittest adjudicated candidate the run may see, or the baseline.
  std::int64_t BestSoFar(archive::Archive& db) const;
  tl::expected<std::vector<Message>, std::string> RenderPrompt(archive::Archive& db, const Pick& pick,
                                                               bool has_knobs);
  std::optional<Proposed> ProposeChild(archive::Archive& db, const Pick& pick, const genome::Genome& parent,
                                      const std::vector<genome::Genome>& inspirations, std::vector<Message> conversation,
                                      std::mt19937_64& rng, double& agent_time);
  void BackOffIfFailing(bool used_offline);
  // Lines the child adds back after its lineage deleted them (the parent's
  // last 8 changes, sources of at most kBigSource bytes).
  Reintroduction Reintroduced(archive::Archive& db, const Pick& pick, const std::string& child);
  std::optional<std::int64_t> ExistingCopy(archive::Archive& db, const std::string& hash);  // the candidate with this source
  bool Enqueue(const Pick& pick, Proposed p);

  // Watches the deadline, STOP, Ctrl-C and the grace period; cuts off what
  // runs past them; prints a heartbeat when nothing lands for 30 s.
  void Monitor();
  bool CuttingOff() const { return cancel_.load(); }

  // An evaluation slot (search_evaluate.cpp).
  void Evaluator();
  void EvaluateJob(const Job& job);
  // The cheap first stage: under a slow meter, a check on one instance with
  // the wall meter. Its measurement when the candidate failed it (stage
  // "cascade/<where>"), so the slow meter never runs it; nullopt to go on.
  std::optional<evaluators::Measurement> Cascade(const Job& job);
  std::optional<std::int64_t> RecordChild(const Job& job, const evaluators::Measurement& m, bool& new_best);
  // RecordChild's part on the recorder's thread: the duplicate check, the
  // verdict "pending" or not, the write, then the counters.
  struct Landed {
    std::optional<std::int64_t> id;
    bool new_best = false;
  };
  Landed Land(archive::Archive& a, const Job& job, const std::string& key, const evaluators::Measurement& m,
              archive::Attempt at)
      EXCLUDES(s_.mu);
  // `win_for`: the ledger name of the model whose call made the child, when
  // the child beat its parent: a verdict that holds is that model's win.
  void Adjudicate(std::int64_t child_id, const std::string& source, const std::string& hash,
                  const archive::Evaluation& dev, const std::string& win_for = "");
  // --resume: new bests whose verdict a stop cut off get it now.
  void FinishPending();
  // --resume: evaluations the previous process left with the executor
  // (cluster jobs still running or finished) go back on the queue.
  void CollectOrphans();
  // The task's candidates into the novelty index (before the threads start).
  void LoadNoveltyIndex();
  int StartExecutor();
  // Measures through the executor; the key names the evaluation (the same
  // key collects a job already submitted).
  evaluators::Measurement Measure(const std::string& hash, const std::string& suite, const std::string& source,
                                  const std::string& note);
  static std::string KeyOf(const std::string& hash, const std::string& suite);

  // Shared helpers (search.cpp).
  bool BudgetLeft() REQUIRES(s_.mu);
  std::string BudgetLine() const;  // "10 candidates, 3600 s": what stops the run
  void Progress(bool final_line = false) REQUIRES(s_.mu);
  // Counts the failed attempt now and hands its record to the recorder;
  // once written, the executor forgets `recorded_key` (if any).
  void RecordFailure(std::int64_t parent, const std::string& stage, const std::string& error,
                     const std::string& proposal, const archive::LedgerEntry* ledger,
                     const std::string& recorded_key = "") REQUIRES(s_.mu);
  // Whether a STOP file was made in the archive's folder since the run began
  // (a stat: never under s_.mu).
  bool StopFileAppeared() const;
  archive::LedgerEntry Ledger(const Agent& a, const AgentReply* r, const AgentError* e) const;
  tl::expected<std::string, std::string> Prompt(const std::string& file, const std::map<std::string, std::string>& v);
  evaluators::TaskEvalRequest Request(const std::string& source, const std::string& suite) const;
  std::string Elapsed() const;
  // The meter the run measures under: --meter, else the task's.
  const std::string& RunMeter() const { return o_.meter.empty() ? task_->spec().meter : o_.meter; }
  // How the ledger (and the model bandit) names an agent: agent/model.
  static std::string LedgerName(const Agent& a) { return a.name() + "/" + a.model(); }
  double ElapsedS() const;

  SearchOptions o_;
  SearchParts parts_;  // handed in (tests): taken by StartAgents and StartExecutor
  std::unique_ptr<evaluators::Task> task_;  // set in OpenTask, then read-only
  std::string task_facts_;  // Task::AgentFacts under the run's meter; set in OpenTask
  Shared s_;
  std::vector<std::unique_ptr<Agent>> agents_;  // one per --model; set in StartAgents, then read-only
  std::unique_ptr<Agent> offline_;
  // The archive's one writer (set in OpenRun; its thread runs while the
  // workers do). Set-up and the summary use its connection directly.
  std::unique_ptr<Recorder> recorder_;
  // With several models: which one proposes next (its counts are the ledger's).
  std::optional<ModelBandit> bandit_ GUARDED_BY(s_.mu);
  std::optional<NoveltyIndex> novelty_;  // set before the threads start; thread-safe itself
  std::optional<sandbox::Sandbox> sandbox_;  // one for the whole run
  std::unique_ptr<Executor> executor_;       // set in StartExecutor, then used by every thread
  std::optional<archive::Row> baseline_;
  std::atomic<bool> cancel_{false};  // set once: everything in flight is cut off
  bool monitor_done_ GUARDED_BY(s_.mu) = false;
  Clock::time_point started_ = Clock::now();
  Clock::time_point t0_ = Clock::now();
  bool tty_ = false;
  int evaluators_ = 1;
  std::filesystem::file_time_type started_file_time_ = std::filesystem::file_time_type::clock::now();
  std::int64_t baseline_id_ = 0;
  // What the run may see of the archive: set with the baseline, before the
  // threads start, then read-only.
  archive::RunScope scope_;
  std::string set_up_error_;  // set-up only (one thread): why it failed
  std::optional<archive::Run> resumed_run_;  // --resume: the run as stored, read before set-up
  std::string baseline_src_, baseline_hash_;  // set before the workers start, then read only
  std::once_flag baseline_fresh_once_;
  bool baseline_has_fresh_ = false;  // found at set-up: no fresh measurement needed
  int fallbacks_ = 0;  // times the run backed off to the offline agent
};

}  // namespace ergon::engine::search
