// archive: one SQLite file that holds every attempt of every run, and is the
// checkpoint (a run killed at any instant resumes from it with nothing lost).
//
// WAL mode, so readers (`ergon archive`, a dashboard) see a consistent
// snapshot while a run writes. Each Record() is one transaction: a candidate,
// its evaluations, the agent call that produced it and its events land
// together or not at all. The schema has a version; a file written by a newer
// ergon is refused, never modified.
//
// Thread-safety: an Archive is one connection; use it from one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "base/result.h"

#include "archive/outcome.h"
#include "archive/status.h"

namespace ergon::archive {

using base::Result;

constexpr int kSchemaVersion = 9;
// Sources this long or longer (generated programs, megabytes of literals)
// are kept once each in the blobs table, by the SHA-256 of their bytes, not
// in their candidate's row.
constexpr std::size_t kBlobBytes = 1 << 20;
// Read-only opens take files from this version on: later versions only added
// indexes, so an older file reads correctly as it is (more slowly), and a
// reader never migrates.
constexpr int kOldestReadable = 2;

struct Run {
  std::int64_t id = 0;
  std::string task, agent, model;
  std::string settings;  // JSON text, as the engine wrote it
  double started_at = 0, ended_at = 0;
  RunStatus status = RunStatus::kRunning;
  // Which process runs it: "HOST PID START" (START: the process's start
  // time in clock ticks since boot, so a reused pid is not taken for it).
  // Empty for runs written before schema 7.
  std::string process;
  std::string stop_reason;  // why it failed or was found dead; empty when done
};

// What a run may see of the archive. Unscoped (run_id 0), the whole task:
// every run's candidates seed every later run, the default. A scoped run (a
// study's arms, `ergon run --isolated`) sees its own candidates and the
// task's baseline only, so runs of a study stay independent of each other.
struct RunScope {
  std::int64_t run_id = 0;    // 0: the whole task
  std::int64_t baseline = 0;  // the candidate every run may see
};

// Metrics under the names their task gives them (accuracy, energy_j, cost,
// r2, ...): the archive knows no task and stores any name made of letters,
// digits, '_' and '.'. Absent = not measured.
struct Metrics {
  std::map<std::string, double> values;
  std::string components;  // JSON text: the meter's breakdown
  std::optional<double> Get(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? std::nullopt : std::optional<double>(it->second);
  }
};

struct Evaluation {
  std::int64_t id = 0, candidate_id = 0;
  std::string evaluator_version, meter, device, suite;
  std::string status = "ok";  // ok, or what failed
  bool gate_passed = false;
  double fitness = 0;         // higher is better, as the engine defines it
  Metrics metrics;
  std::string feedback;       // capped stderr / diagnostics
  double created_at = 0;
};

struct Candidate {
  std::int64_t id = 0, run_id = 0;
  std::string task;
  std::optional<std::int64_t> parent;
  int island = 0, generation = 0;
  std::string source, hash;  // hash: genome::ContentHash of source
  std::size_t source_bytes = 0;  // length of source as stored
  // Writing only: the key PutBlob returned for this source, so Record stores
  // no copy of it (empty: Record stores a long source in blobs itself).
  std::string source_blob;
  std::string edit, intent;  // the proposal that produced it, and why
  // A few words naming the idea (the agent's `Idea:` line, the offline
  // agent's move): what the phylogeny colours by. Empty before schema 9.
  std::string idea;
  // Lines the proposal added back after an ancestor had deleted them.
  int reintroduced = 0;
  double created_at = 0;
  int children = 0;
  bool gate_passed = false;  // best evaluation passed its gate
  double best_fitness = 0;
  bool on_front = false;     // on the task's Pareto front
  CandidateStatus status = CandidateStatus::kEvaluated;
};

struct LedgerEntry {
  std::int64_t id = 0, run_id = 0;
  std::optional<std::int64_t> candidate_id;
  std::string model;
  std::int64_t tokens_in = 0, tokens_out = 0;
  double cost_usd = 0, latency_s = 0;
  std::string outcome = "ok", error;
  double created_at = 0;
};

// A proposal that did not become a candidate (edit did not apply, no
// change, did not compile): kept as an attempt for prompts and statistics.
struct FailedAttempt {
  std::int64_t run_id = 0;
  std::optional<std::int64_t> parent;
  std::string stage, error, proposal;
};

struct Event {
  std::int64_t run_id = 0;
  std::string kind;  // improvement | failure | budget_stop | overfit | ...
  std::optional<std::int64_t> candidate_id;
  std::string message;
};

// Everything one attempt produced, written in one transaction.
struct Attempt {
  std::optional<Candidate> candidate;  // new candidate (id assigned), or
  std::optional<std::int64_t> existing_candidate;  // more evaluations for one
  std::vector<Evaluation> evaluations;
  // Minimised objectives of the best evaluation (e.g. -accuracy, energy_j,
  // wall_s) and its MAP-Elites cell; the front and the grid update with them.
  std::vector<double> objectives;
  std::string cell;
  std::optional<LedgerEntry> ledger;
  std::optional<FailedAttempt> failure;
  std::vector<Event> events;
  // A new status for the (existing) candidate, in the same transaction.
  std::optional<CandidateStatus> set_status;
};

// A child against its parent, for the run's digest of what helped.
struct ChildOutcome {
  std::int64_t id = 0, parent = 0;
  std::string intent;
  CandidateStatus status = CandidateStatus::kEvaluated;
  bool gate_passed = false, parent_gate_passed = false;
  std::optional<double> fitness, parent_fitness;  // best_fitness (higher is better)
};

// A failed attempt as stored.
struct AttemptRow {
  std::int64_t id = 0, run_id = 0;
  std::optional<std::int64_t> parent;
  std::string stage, error, proposal;
  double created_at = 0;
};

// Rows from List, Top, Search, Lineage and Pareto carry no source
// (candidate.source is empty; source_bytes says how long it is): use Get.
struct ListFilter {
  std::optional<std::int64_t> run_id;
  std::string task;
  std::optional<CandidateStatus> status;  // nullopt: any
  int limit = 50;
  int offset = 0;  // rows to skip (paging)
};

// A candidate with its best evaluation (for tables and --json).
struct Row {
  Candidate candidate;
  std::optional<Evaluation> best;
};

// Re-introduced code of a run's candidates, by the model that proposed them.
struct Reintroductions {
  std::string model;
  std::int64_t candidates = 0, with = 0, lines = 0;  // with: candidates that re-added any line
};

struct LedgerSummary {
  std::int64_t run_id = 0;
  std::string model;
  std::int64_t calls = 0, tokens_in = 0, tokens_out = 0, failures = 0;
  std::int64_t reintroduced = 0;  // lines their candidates added back after an ancestor deleted them
  // Calls whose candidate passed the gate and beat its parent (or passed
  // where the parent did not), and stands: evaluated, neither pending its
  // fresh-suite verdict nor judged overfit. The model bandit's reward (the
  // search counts it live by the same rule).
  std::int64_t wins = 0;
  double cost_usd = 0, latency_s = 0;
};

// Aggregates for views over a whole run or task (the dashboard): computed in
// SQL, so a 100,000-candidate archive answers in milliseconds.
struct RunStats {
  std::int64_t run_id = 0;
  OutcomeCounts outcomes;  // the run's attempts, candidates among them (the baseline is none)
  std::int64_t attempts = 0, calls = 0, tokens = 0;  // attempts: failed ones (no candidate)
  double cost_usd = 0;
  double last_activity = 0;  // newest candidate, attempt, call or event (unix s)
};

// One evaluation of a run's candidate, for a progress chart.
struct ProgressPoint {
  std::int64_t eval_id = 0, candidate_id = 0;
  double at = 0;
  std::string suite, eval_status;
  CandidateStatus candidate_status = CandidateStatus::kEvaluated;
  bool gate_passed = false;
  std::optional<double> value;  // the metric asked for
};

// A candidate as a point of a task's scatter: `x` the gate metric, `y` the
// minimised one.
struct ScatterPoint {
  std::int64_t id = 0;
  std::optional<double> x, y;
  bool gate_passed = false, on_front = false;
  CandidateStatus status = CandidateStatus::kEvaluated;
};

// A candidate as a node of the phylogeny: its parent, its value of one
// metric, its idea and the model that proposed it.
struct PhyloNode {
  std::int64_t id = 0, parent = 0;  // parent 0: none
  std::optional<double> value;
  bool gate_passed = false;
  CandidateStatus status = CandidateStatus::kEvaluated;
  std::string idea, model;
};

// Agent calls per time bucket, model and outcome.
struct LedgerBucket {
  double start = 0;
  std::string model, outcome;
  std::int64_t calls = 0, tokens_in = 0, tokens_out = 0;
  double cost_usd = 0;
};

class Archive {
 public:
  // Opens or creates the file; migrates an older schema forward.
  static Result<std::unique_ptr<Archive>> Open(const std::string& path);
  // Read-only: never creates, never migrates.
  static Result<std::unique_ptr<Archive>> OpenReadOnly(const std::string& path);
  ~Archive();
  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;

  int schema_version() const { return schema_version_; }

  Result<std::int64_t> BeginRun(const Run& run);
  Result<void> EndRun(std::int64_t run_id, RunStatus status, const std::string& reason = "");
  // A run whose process died without ending it: `stopped`, with why, ended
  // at its last recorded activity.
  Result<void> MarkRunLost(std::int64_t run_id, const std::string& reason);
  // --resume: the run is running again, in `process`. An error when it is
  // marked running already (another process is running it), unless
  // `even_if_running` (its process is on a host nobody here can check).
  Result<void> ReopenRun(std::int64_t run_id, const std::string& process, bool even_if_running = false);
  Result<std::vector<Run>> Runs();
  Result<void> UpdateRunSettings(std::int64_t run_id, const std::string& settings);

  // One transaction. Returns the candidate id (new or existing), or 0 for a
  // failed attempt without a candidate.
  Result<std::int64_t> Record(const Attempt& attempt);
  // Record for a new candidate that another process may have recorded first
  // (the same task and hash, on a shared archive): then nothing is written
  // and `existing` says so, with that candidate's id.
  struct Recorded {
    std::int64_t id = 0;
    bool existing = false;
  };
  Result<Recorded> RecordNew(const Attempt& attempt);
  // Stores a long source in the blobs table (once: a second copy is a no-op)
  // and returns its key for Candidate::source_blob. Unlike every other
  // method, safe to call while another thread uses the archive: it writes
  // through a connection of its own, so the megabytes are written outside
  // the caller's lock on the archive.
  Result<std::string> PutBlob(const std::string& text);

  Result<std::optional<std::int64_t>> FindByHash(const std::string& task, const std::string& hash);
  // With max_source_bytes, a source longer than that comes back empty (its
  // length is in candidate.source_bytes): for summaries of big candidates.
  Result<std::optional<Row>> Get(std::int64_t id, std::size_t max_source_bytes = SIZE_MAX);
  Result<std::vector<Evaluation>> Evaluations(std::int64_t candidate_id);
  Result<std::vector<Row>> List(const ListFilter& filter);
  // Gate passed, best first by `by`: "fitness" (highest first) or any metric
  // name (lowest first, or highest with `higher_first`). Candidates without
  // that metric come last.
  Result<std::vector<Row>> Top(const std::string& task, const std::string& by, int limit, bool higher_first = false,
                               const RunScope& scope = {});
  // The metric names stored for a task's evaluations.
  Result<std::vector<std::string>> MetricNames(const std::string& task);
  Result<std::vector<Row>> Search(const std::string& text, int limit);
  // Failed attempts, newest first (run_id 0: all runs); and by full text.
  Result<std::vector<AttemptRow>> Attempts(std::int64_t run_id, int limit);
  Result<std::vector<AttemptRow>> SearchAttempts(const std::string& text, int limit);
  // A candidate's events of one kind (e.g. "measured"), oldest first.
  Result<std::vector<Event>> CandidateEvents(std::int64_t candidate_id, const std::string& kind);
  // The newest `limit` candidates of a task with sources of at most
  // max_bytes, oldest first: (id, source).
  Result<std::vector<std::pair<std::int64_t, std::string>>> Sources(const std::string& task, std::size_t max_bytes,
                                                                     int limit, const RunScope& scope = {});
  // A task's newest `limit` children, newest first, each with its parent's
  // standing; and how its newest `limit` failed attempts failed: stage -> count.
  Result<std::vector<ChildOutcome>> RecentOutcomes(const std::string& task, int limit, const RunScope& scope = {});
  Result<std::map<std::string, std::int64_t>> RecentFailureStages(const std::string& task, int limit,
                                                                  const RunScope& scope = {});
  // Candidates of a run still awaiting their fresh-suite verdict.
  Result<std::vector<std::int64_t>> Pending(std::int64_t run_id);
  // The candidate and its ancestors, newest first.
  Result<std::vector<Row>> Lineage(std::int64_t id);
  Result<std::vector<Row>> Pareto(const std::string& task);
  Result<std::vector<LedgerSummary>> Ledger();
  // A run's re-introduced code, by model (a candidate without a ledger row
  // counts under "").
  Result<std::vector<Reintroductions>> ReintroducedByModel(std::int64_t run_id);
  Result<void> MarkStatus(std::int64_t candidate_id, CandidateStatus status);

  // Sampling (seeded: the same archive and rng state give the same choices).
  // A parent from `island`, among its 32 fittest members that passed the gate
  // (migrants included), ranked by fitness. With probability 0.85 a draw is
  // by rank: weight 2^-rank / sqrt(1 + children/8), so the front-runner is
  // favoured, and only after 24 children is it drawn as rarely as the
  // runner-up with none; with 0.15 it is uniform over the members, so
  // nothing is starved. Nothing passed the gate: the island's fittest
  // evaluated candidate. nullopt when the island is empty.
  Result<std::optional<std::int64_t>> SampleParent(const std::string& task, int island, std::mt19937_64& rng,
                                                   const RunScope& scope = {});
  // Up to n inspirations: Pareto-front members and MAP-Elites elites, never
  // the parent itself. Scoped: the front and the grid are the whole task's,
  // so the scope's own 8 fittest that passed the gate stand in for them.
  Result<std::vector<std::int64_t>> SampleInspirations(const std::string& task, std::int64_t parent, int n,
                                                       std::mt19937_64& rng, const RunScope& scope = {});
  // Copies the best home candidate of each island to the next (ring). Returns the
  // number of copies made. A copy is a membership, never a move.
  Result<int> Migrate(const std::string& task, int islands, const RunScope& scope = {});
  // Candidates of an island, home or migrated in.
  Result<std::vector<std::int64_t>> IslandMembers(const std::string& task, int island);
  // The MAP-Elites grid: cell -> elite.
  Result<std::vector<std::pair<std::string, std::int64_t>>> Elites(const std::string& task);

  // For the search loop.
  struct RunTotals {
    std::int64_t candidates = 0, attempts = 0, tokens = 0, calls = 0;
    double cost_usd = 0, elapsed_s = 0;
  };
  // What a run has used so far (for budgets that continue after --resume).
  Result<RunTotals> Totals(std::int64_t run_id);
  // Makes a candidate a member of another island (as migration does).
  Result<void> Share(std::int64_t candidate_id, int island);
  // The most recent failed attempts made from `parent`, each proposal cut to
  // its first 4,000 bytes.
  Result<std::vector<AttemptRow>> RecentFailures(std::int64_t parent, int n, const RunScope& scope = {});
  Result<std::optional<Run>> GetRun(std::int64_t run_id);
  // An agent call about to start: a ledger row marked in_flight, committed
  // now, so a process killed during the call leaves a trace. Record() of an
  // Attempt whose ledger has this id completes the row instead of adding one.
  Result<std::int64_t> BeginCall(std::int64_t run_id, const std::string& model);
  // On resume: calls of the run still in flight were cut off by the stop;
  // they become "lost" (counted as calls, with no known tokens). Returns how many.
  Result<int> CloseLostCalls(std::int64_t run_id);

  // For the dashboard.
  Result<std::vector<RunStats>> AllRunStats();
  // What became of each run's attempts (outcome.h), by run id: one run, or all.
  Result<std::map<std::int64_t, OutcomeCounts>> Outcomes(std::optional<std::int64_t> run_id);
  // Evaluations of run's candidates with id > after_eval, oldest first, with
  // `metric`'s value.
  Result<std::vector<ProgressPoint>> Progress(std::int64_t run_id, const std::string& metric, std::int64_t after_eval);
  // At most `limit` candidates of a task, spread evenly over its ids, and every
  // front member.
  // Every candidate of a task (run_id 0) or of one run with the baseline, in
  // the order they were recorded, up to `limit` (the newest kept).
  Result<std::vector<PhyloNode>> Phylogeny(const std::string& task, std::int64_t run_id, const std::string& metric,
                                           int limit);
  Result<std::vector<ScatterPoint>> Scatter(const std::string& task, const std::string& x_metric,
                                            const std::string& y_metric, int limit);
  // Direct children, oldest first, after id `after` (paging).
  Result<std::vector<Row>> Children(std::int64_t id, std::int64_t after, int limit);
  // A task's first candidate without a parent (the baseline every run starts from).
  Result<std::optional<std::int64_t>> Baseline(const std::string& task);
  // The lowest value of `metric` among a run's gate-passed, adjudicated candidates.
  Result<std::optional<std::pair<std::int64_t, double>>> BestOfRun(std::int64_t run_id, const std::string& metric,
                                                                   bool higher_first);
  // Ledger rows (run_id 0: all; candidate set: only its calls), newest first.
  Result<std::vector<LedgerEntry>> LedgerRows(std::int64_t run_id, std::optional<std::int64_t> candidate, int limit);
  Result<std::vector<LedgerBucket>> LedgerTimeline(std::int64_t run_id, double bucket_s);

  // Raw access for tests of integrity.
  Result<std::string> IntegrityCheck();

  struct Impl;  // opaque: archive/impl.h, for archive's own files only

 private:
  Archive() = default;
  std::unique_ptr<Impl> impl_;
  int schema_version_ = 0;
};

}  // namespace ergon::archive
