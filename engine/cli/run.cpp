// `ergon run`: the search. Its flags in four groups, then what is checked
// and resolved once they are parsed (the run file it stores included).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "engine/cli/subcommand.h"
#include "engine/home.h"
#include "engine/search.h"
#include "engine/strategy.h"

#ifndef ERGON_VERSION
#define ERGON_VERSION "0.0.0"
#endif

namespace ergon::engine::cli {
namespace {

// What the flags fill besides SearchOptions.
struct RunFlags {
  SearchOptions so;
  std::string max_time;
  std::int64_t seed = 1;
  std::string strategy = "evolve";
};

void AddAgentFlags(CLI::App& run, RunFlags& f) {
  SearchOptions& so = f.so;
  run.add_option("--task", so.task, "task name (see `ergon tasks`); with --resume, the run's own");
  run.add_option("--agent", so.agent, "offline (default, no network) | openai | anthropic | cli")
      ->check(CLI::IsMember({"offline", "openai", "anthropic", "cli"}));
  run.add_option("--command", so.command, "the cli agent's command line, e.g. \"claude -p\" (prompt on stdin)");
  run.add_option("--agent-param", so.agent_params,
                 "KEY=VALUE sent in every model request, as the provider names it (temperature=0.2, "
                 "max_tokens=8000, reasoning_effort=high); repeatable, one per flag")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  run.add_option("--model", so.models,
                 "model name (openai default gpt-4o-mini; anthropic claude-3-5-haiku-latest). Repeat it for "
                 "several: a cost-aware bandit then picks the model of each proposal. openai:NAME or "
                 "anthropic:NAME names another agent, NAME@URL another base URL")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  run.add_option("--base-url", so.base_url,
                 "API base URL: OpenAI-style includes /v1 (requests go to BASE/chat/completions); Anthropic's does "
                 "not (BASE/v1/messages)");
  run.add_option("--agent-timeout", so.agent_timeout_s, "seconds an agent call may take (default 120)");
  run.add_option("--agent-backoff", so.agent_backoff_s, "first retry wait in seconds after 429/5xx/timeouts (default 1)");
  run.add_option("--prompts", so.prompts_dir, "folder with system.txt, mutate.txt, repair.txt (default: ergon's)");
  run.add_option("--price-in", so.price_in, "USD per million input tokens (overrides the model table)");
  run.add_option("--price-out", so.price_out, "USD per million output tokens");
  run.add_flag("--fallback-offline", so.fallback_offline,
               "when the agent keeps failing, back off to the offline agent for a while (default: stop the run "
               "with an error)");
}

void AddBudgetFlags(CLI::App& run, RunFlags& f) {
  SearchOptions& so = f.so;
  run.add_option("--max-candidates", so.max_candidates,
                 "newly evaluated candidates to make (default: no limit when --max-time, --max-cost or --max-tokens "
                 "is given, else 10)")
      ->check(CLI::Range(1, 100000000));
  run.add_option("--max-time", f.max_time, "wall-time budget, e.g. 90s, 30m, 8h");
  run.add_option("--max-cost", so.max_cost_usd, "agent spend budget in USD (needs a known price: see --price-in)")
      ->check(CLI::NonNegativeNumber);
  run.add_option("--max-tokens", so.max_tokens, "agent token budget")->check(CLI::NonNegativeNumber);
  run.add_option("--grace", so.grace_s,
                 "after Ctrl-C or STOP: seconds running evaluations may finish before they are cut off (default 10)")
      ->check(CLI::Range(0.0, 3600.0));
  run.add_option("--heartbeat", so.heartbeat_s, "seconds between progress lines while nothing lands (default 30)")
      ->check(CLI::Range(0.5, 3600.0));
  run.add_option("--db", so.db, "archive file (default ergon.db)");
  run.add_option("--resume", so.resume, "continue run RUN of this archive");
}

void AddSearchFlags(CLI::App& run, RunFlags& f) {
  SearchOptions& so = f.so;
  run.add_option("--proposals", so.proposals, "agent calls in flight (default: as many as evaluation slots)")
      ->check(CLI::Range(0, 64));
  run.add_option("--evaluators", so.evaluators, "evaluation slots (default: cores; 1 for nvml)")->check(CLI::Range(0, 256));
  run.add_option("--islands", so.islands, "islands (default 2)")->check(CLI::Range(1, 64));
  run.add_option("--seed", f.seed, "seed for sampling and the offline agent (default 1)")
      ->check(CLI::Range(static_cast<std::int64_t>(0), std::numeric_limits<std::int64_t>::max()));
  run.add_option("--strategy", f.strategy,
                 "where each proposal starts: evolve (default: a parent sampled from the archive, with "
                 "inspirations) | independent (always the baseline, no archive context: the matched-budget "
                 "baseline) | hillclimb (always the current best, no inspirations)")
      ->check(CLI::IsMember({"evolve", "independent", "hillclimb"}));
  run.add_flag("--isolated", so.isolated,
               "see only this run's candidates and the task's baseline, not earlier runs' (a study's arms)");
  run.add_option("--study", so.study, "the study this run is an arm of (ergon study sets it)");
  run.add_option("--study-arm", so.study_arm, "its arm in the study (default: the strategy's name)");
  run.add_option("--meta-every", so.meta_every,
                 "every N new candidates, rebuild from the archive a digest of which changes helped and which hurt, "
                 "carried in later prompts (default 10; 0 turns it off)")
      ->check(CLI::Range(0, 1000000));
  run.add_option("--repair-turns", so.repair_turns,
                 "times an edit that cannot be used (or is not novel) goes back to the agent, in the same "
                 "conversation, before the proposal counts as failed (default 2)")
      ->check(CLI::Range(0, 10));
  run.add_flag("!--no-cascade", so.cascade,
               "skip the cascade: by default, under a slow meter (cachemodel, nvml) each candidate is first run on "
               "one instance under the wall meter, and one that fails there never reaches the slow meter");
  run.add_option("--novelty", so.novelty,
                 "refuse, before evaluation, a proposal whose normalised-token similarity to an archived candidate "
                 "is at least this (default 1.0: it differs only in comments and layout; 0 turns it off)")
      ->check(CLI::Range(0.0, 1.0));
  run.add_option("--meter", so.meter, "learners: cachemodel | nvml | wall (default: the task's, from task.json)");
  run.add_option("--instances", so.instances, "instances per evaluation (default: the task's)")
      ->check(CLI::Range(1, 1 << 20));
  run.add_option("--eval-timeout", so.eval_timeout_s, "seconds a candidate may run per instance (default: the task's)");
}

void AddExecutorFlags(CLI::App& run, RunFlags& f) {
  SearchOptions& so = f.so;
  run.add_option("--executor", so.executor,
                 "where evaluations run: local (default, this machine) | slurm (a Slurm job each; this process "
                 "stays the only writer of the archive)")
      ->check(CLI::IsMember({"local", "slurm"}));
  run.add_option("--spool", so.spool,
                 "slurm: a folder every node sees, for requests and results (default: DB.spool beside the archive)");
  run.add_option("--slurm-partition", so.slurm_partition, "slurm: the partition (default: the cluster's)");
  run.add_option("--slurm-gres", so.slurm_gres, "slurm: generic resources per job, e.g. gpu:1 (default: gpu:1 "
                                                "under the nvml meter, else none)");
  run.add_option("--slurm-args", so.slurm_args, "slurm: more sbatch arguments, e.g. \"--time=30 --qos=low\"");
  run.add_option("--slurm-submissions", so.slurm_submissions,
                 "slurm: submissions per evaluation before it counts as an infrastructure failure (default 3)")
      ->check(CLI::Range(1, 100));
}

int Usage(const std::string& why) {
  fmt::print(stderr, "ergon run: {}\nRun 'ergon run --help' for its options.\n", why);
  return kUsage;
}

// The launch as a run file: flags given (on the command line or in a run
// file) as `key=value`, the others as comments with their default, so the
// file says all and reads back as exactly this launch (--resume names a
// run, so it is left out).
std::string RunFile(const CLI::App& run) {
  std::string out = fmt::format("# ergon {} run file: flags as given; commented lines are defaults\n[run]\n",
                                ERGON_VERSION);
  std::set<std::string> given;
  std::istringstream set_lines(run.config_to_str(false, false));
  for (std::string line; std::getline(set_lines, line);)
    if (line.rfind("resume=", 0) != 0) {
      given.insert(line.substr(0, line.find('=')));
      out += line + "\n";
    }
  std::istringstream all_lines(run.config_to_str(true, false));
  for (std::string line; std::getline(all_lines, line);)
    if (!given.count(line.substr(0, line.find('='))) && line.rfind("resume=", 0) != 0) out += "# " + line + "\n";
  return out;
}

// The parsed flags checked and resolved into the options the search takes.
int Launch(const CLI::App& run, RunFlags& f) {
  SearchOptions& so = f.so;
  if (!so.agent_params.empty() && so.agent != "openai" && so.agent != "anthropic")
    return Usage(fmt::format("--agent-param needs --agent openai or anthropic (the {} agent takes no sampling "
                             "settings)", so.agent));
  if (so.task.empty() && !so.resume) return Usage("--task is required (or --resume RUN, which knows its task)");
  if (!f.max_time.empty()) {
    auto t = ParseDuration(f.max_time);
    if (!t) return Usage(fmt::format("--max-time {}: use a number with s, m or h (e.g. 30m)", f.max_time));
    so.max_time_s = *t;
  }
  auto home = FindHome();
  if (!home) {
    fmt::print(stderr, "ergon run: {}\n", home.error());
    return 1;
  }
  so.home = *home;
  // The spool's default, beside the archive. A resumed run keeps its
  // stored spool unless --spool is given again (Search::KeepStoredExecutor).
  if (so.spool.empty()) so.spool = so.db + ".spool";
  if (so.executor != "slurm")
    for (const char* flag : {"--spool", "--slurm-partition", "--slurm-gres", "--slurm-args", "--slurm-submissions"})
      if (run.count(flag) > 0) return Usage(fmt::format("{} needs --executor slurm", flag));
  so.seed = static_cast<std::uint64_t>(f.seed);
  so.strategy = *ParseStrategy(f.strategy);
  so.config = RunFile(run);
  for (const char* flag : {"--max-candidates", "--max-time", "--max-cost", "--max-tokens", "--executor", "--spool",
                           "--slurm-partition", "--slurm-gres", "--slurm-args", "--slurm-submissions", "--strategy",
                           "--isolated"})
    if (run.count(flag) > 0) so.given.push_back(flag);
  // A night given only a time (or spend) budget runs until that budget:
  // the 10-candidate default is for a run given no budget at all.
  const auto given = [&so](const char* g) { return std::find(so.given.begin(), so.given.end(), g) != so.given.end(); };
  if (!so.resume && !given("--max-candidates") && (given("--max-time") || given("--max-cost") || given("--max-tokens")))
    so.max_candidates = kNoCandidateLimit;
  return RunSearch(so);
}

}  // namespace

Runner DeclareRun(CLI::App& run, Common&) {
  auto f = std::make_shared<RunFlags>();
  // Every value is known, given or default: the resolved configuration is
  // stored with the run as a run file (see --config).
  run.option_defaults()->always_capture_default();
  run.footer("A run file: `ergon run --config FILE` reads flags from FILE, a [run] section of `key = value` lines "
             "(the flag without its dashes: max-candidates = 30, task = \"sparse_parity\", tasks = [\"a\", \"b\"]); "
             "flags on the command line override it. `ergon archive runs --json` shows each run's resolved "
             "configuration in this form (\"config\"), so a run can be launched again from it.");
  AddAgentFlags(run, *f);
  AddBudgetFlags(run, *f);
  AddSearchFlags(run, *f);
  AddTasksOption(run, f->so.tasks_dirs);
  AddExecutorFlags(run, *f);
  return [f, &run] { return Launch(run, *f); };
}

}  // namespace ergon::engine::cli
