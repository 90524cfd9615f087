// `ergon run`: the search loop. Samples a parent and inspirations from the
// archive, renders a prompt, asks an agent, applies the edit, evaluates the
// child in the sandbox, and records everything, until a budget runs out.
//
// The archive is the checkpoint: every attempt lands in one transaction, so
// a run killed at any instant resumes (--resume RUN) with nothing lost and
// nothing counted twice; budgets continue from what the archive says was
// used.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/model_bandit.h"
#include "engine/strategy.h"

namespace ergon::engine {

class Agent;
class Executor;

constexpr std::int64_t kNoCandidateLimit = std::int64_t{1} << 40;

struct SearchOptions {
  std::string task;
  std::string agent = "offline";  // offline | openai | anthropic | cli
  std::string command;            // the cli agent's command line
  // Models to propose with (repeat --model). Each is NAME, optionally
  // prefixed by its agent (openai:NAME, anthropic:NAME) and followed by its
  // own base URL (NAME@http://host/v1). With several, a cost-aware bandit
  // picks the model of each proposal (engine/model_bandit.h).
  std::vector<std::string> models;
  // --agent-param KEY=VALUE: sent in every model request (ApplyAgentParams).
  std::vector<std::string> agent_params;
  std::string base_url;
  std::string db = "ergon.db";
  std::string prompts_dir;        // empty: <home>/prompts
  std::string meter;              // empty: the task's default
  // Newly evaluated candidates. A new run given a time, cost or token
  // budget and no --max-candidates makes as many as that budget allows
  // (kNoCandidateLimit); one given no budget at all stops at 10.
  std::int64_t max_candidates = 10;
  double max_time_s = 0;          // 0 = no limit
  double max_cost_usd = 0;
  std::int64_t max_tokens = 0;
  int proposals = 0;              // agent calls in flight (0 = as many as evaluation slots)
  int evaluators = 0;             // 0 = one per core (CPU tasks)
  int islands = 2;
  std::uint64_t seed = 1;
  // Where each proposal starts (engine/strategy.h), and whether the run
  // sees only its own candidates and the baseline (archive::RunScope).
  Strategy strategy = Strategy::kEvolve;
  bool isolated = false;
  std::string study;              // the study this run is an arm of ("": none)
  std::string study_arm;          // its arm's name ("": the strategy's)
  std::optional<std::int64_t> resume;
  double eval_timeout_s = 0;      // per instance; 0 = the task's
  // A proposal whose normalised-token similarity to a candidate is at least
  // this is refused as not novel (engine/novelty_index.h); 0 turns it off.
  double novelty = 1.0;
  // Under a slow meter (cachemodel, nvml), check each candidate first on one
  // instance under the wall meter; a failure there never reaches the meter.
  bool cascade = true;
  // Every this many new candidates, the digest of what helped and what hurt
  // (engine/meta_summary.h) is rebuilt for later prompts; 0 turns it off.
  int meta_every = 10;
  double agent_timeout_s = 120;
  double agent_backoff_s = 1.0;   // first retry wait (doubles, with jitter)
  int instances = 0;              // 0 = the task's default
  int repair_turns = 2;           // edit failures sent back per proposal
  double price_in = -1, price_out = -1;
  std::string home;
  std::vector<std::string> tasks_dirs;  // --tasks DIR (and $ERGON_TASKS)
  bool fallback_offline = false;  // back off to the offline agent instead of stopping
  double grace_s = 10;            // after a stop: how long running evaluations may finish
  double heartbeat_s = 30;        // a progress line at least this often while nothing lands
  // Where evaluations run: local (this process) or slurm (a job each).
  std::string executor = "local";
  std::string spool;              // slurm: a folder the nodes share (the CLI's default: DB.spool)
  std::string slurm_partition, slurm_gres, slurm_args;
  int slurm_submissions = 3;      // per evaluation, before an infrastructure failure
  // The run file that reproduces this launch (`[run]` and every flag's
  // value); stored with a new run's settings as "config".
  std::string config;
  // Budget flags given on the command line (with --resume they replace the
  // stored ones; otherwise the run's stored budgets hold).
  std::vector<std::string> given;
};

// Runs until a budget, STOP file, Ctrl-C or a fatal agent error. Returns the
// exit code (0 budget reached or stopped cleanly, 1 failure, 2 usage).
int RunSearch(const SearchOptions& options);

// What a run is made of besides its options, for tests of the loop: agents
// and an executor handed in replace those the options name (a fake agent
// and a fake executor make a run of milliseconds, with no model and no
// compiler). Empty or null: made from the options, as RunSearch does.
struct SearchParts {
  std::vector<std::unique_ptr<Agent>> agents;
  std::unique_ptr<Executor> executor;
  // Set: the model bandit's arms as the run ends (with several models), so a
  // test can hold the live bandit against the one the ledger restores.
  std::vector<ModelBandit::Arm>* bandit_at_end = nullptr;
  SearchParts();
  SearchParts(SearchParts&&) noexcept;
  ~SearchParts();
};
int RunSearch(const SearchOptions& options, SearchParts parts);

}  // namespace ergon::engine
