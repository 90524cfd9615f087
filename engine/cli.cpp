// CLI11 lives in this one file (it is a heavy header).
#include "engine/cli.h"

#include <cstdio>
#include <string>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <vector>
#include <algorithm>

#include "engine/commands.h"
#include "engine/doctor.h"
#include "engine/home.h"
#include "engine/search.h"
#include "engine/strategy.h"
#include "engine/study.h"

#ifndef ERGON_VERSION
#define ERGON_VERSION "0.0.0"
#endif

namespace ergon::engine {
namespace {

constexpr int kUsage = 2;

// "90s", "30m", "8h", "1.5h" or plain seconds.
std::optional<double> ParseDuration(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || v < 0) return std::nullopt;
  std::string unit(end);
  if (unit.empty() || unit == "s") return v;
  if (unit == "m") return v * 60;
  if (unit == "h") return v * 3600;
  return std::nullopt;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"ergon: agent-driven search for energy-efficient learning algorithms", "ergon"};
  app.set_version_flag("--version", std::string("ergon ") + ERGON_VERSION);
  app.require_subcommand(1);
  // `ergon run --config FILE`: CLI11 reads config files at the top level, so
  // the option is the app's, and argv is reordered to put it there.
  std::string config_file;
  app.set_config("--config", "", "a run file for `ergon run` (see `ergon run --help`)");
  app.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt key is an error, not ignored
  app.fallthrough(false);

  bool json = false;
  // --tasks DIR, repeatable, on every subcommand that takes a task.
  std::vector<std::string> tasks_dirs;
  auto add_tasks = [&](CLI::App* sub) {
    sub->add_option("--tasks", tasks_dirs,
                    "a folder of task folders (or one task folder) to search before ergon's own; repeatable; "
                    "$ERGON_TASKS (colon-separated) adds more")
        ->expected(1)
        ->allow_extra_args(false)  // one value per flag: `--tasks DIR FILE` leaves FILE to the positional
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  };
  auto* tasks = app.add_subcommand("tasks", "list the tasks: ergon's evaluators/, $ERGON_TASKS and --tasks folders");
  tasks->add_flag("--json", json, "print one JSON array");
  add_tasks(tasks);

  auto* doctor = app.add_subcommand("doctor", "show which sandbox isolation, compilers and meters work here");

  // Subcommands that later issues fill in. They parse their documented
  // flags already, so scripts fail loudly on typos, and say they are not built.
  SearchOptions so;
  std::string max_time;
  auto* run = app.add_subcommand("run", "search: sample, prompt, propose, evaluate, record, within budgets");
  // Every value is known, given or default: the resolved configuration is
  // stored with the run as a run file (see --config).
  run->option_defaults()->always_capture_default();
  run->footer("A run file: `ergon run --config FILE` reads flags from FILE, a [run] section of `key = value` lines "
              "(the flag without its dashes: max-candidates = 30, task = \"sparse_parity\", tasks = [\"a\", \"b\"]); "
              "flags on the command line override it. `ergon archive runs --json` shows each run's resolved "
              "configuration in this form (\"config\"), so a run can be launched again from it.");
  run->add_option("--task", so.task, "task name (see `ergon tasks`); with --resume, the run's own");
  run->add_option("--agent", so.agent, "offline (default, no network) | openai | anthropic | cli")
      ->check(CLI::IsMember({"offline", "openai", "anthropic", "cli"}));
  run->add_option("--command", so.command, "the cli agent's command line, e.g. \"claude -p\" (prompt on stdin)");
  run->add_option("--agent-param", so.agent_params,
                  "KEY=VALUE sent in every model request, as the provider names it (temperature=0.2, "
                  "max_tokens=8000, reasoning_effort=high); repeatable, one per flag")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  run->add_option("--model", so.models,
                  "model name (openai default gpt-4o-mini; anthropic claude-3-5-haiku-latest). Repeat it for "
                  "several: a cost-aware bandit then picks the model of each proposal. openai:NAME or "
                  "anthropic:NAME names another agent, NAME@URL another base URL")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  run->add_option("--base-url", so.base_url,
                  "API base URL: OpenAI-style includes /v1 (requests go to BASE/chat/completions); Anthropic's does "
                  "not (BASE/v1/messages)");
  run->add_option("--max-candidates", so.max_candidates,
                  "newly evaluated candidates to make (default: no limit when --max-time, --max-cost or --max-tokens "
                  "is given, else 10)")
      ->check(CLI::Range(1, 100000000));
  run->add_option("--max-time", max_time, "wall-time budget, e.g. 90s, 30m, 8h");
  run->add_option("--max-cost", so.max_cost_usd, "agent spend budget in USD (needs a known price: see --price-in)")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--max-tokens", so.max_tokens, "agent token budget")->check(CLI::NonNegativeNumber);
  run->add_flag("--fallback-offline", so.fallback_offline,
                "when the agent keeps failing, back off to the offline agent for a while (default: stop the run "
                "with an error)");
  run->add_option("--grace", so.grace_s,
                  "after Ctrl-C or STOP: seconds running evaluations may finish before they are cut off (default 10)")
      ->check(CLI::Range(0.0, 3600.0));
  run->add_option("--heartbeat", so.heartbeat_s, "seconds between progress lines while nothing lands (default 30)")
      ->check(CLI::Range(0.5, 3600.0));
  run->add_option("--proposals", so.proposals, "agent calls in flight (default: as many as evaluation slots)")
      ->check(CLI::Range(0, 64));
  run->add_option("--evaluators", so.evaluators, "evaluation slots (default: cores; 1 for nvml)")->check(CLI::Range(0, 256));
  run->add_option("--islands", so.islands, "islands (default 2)")->check(CLI::Range(1, 64));
  std::int64_t seed = 1;
  run->add_option("--seed", seed, "seed for sampling and the offline agent (default 1)")
      ->check(CLI::Range(static_cast<std::int64_t>(0), std::numeric_limits<std::int64_t>::max()));
  std::string strategy = "evolve";
  run->add_option("--strategy", strategy,
                  "where each proposal starts: evolve (default: a parent sampled from the archive, with "
                  "inspirations) | independent (always the baseline, no archive context: the matched-budget "
                  "baseline) | hillclimb (always the current best, no inspirations)")
      ->check(CLI::IsMember({"evolve", "independent", "hillclimb"}));
  run->add_flag("--isolated", so.isolated,
                "see only this run's candidates and the task's baseline, not earlier runs' (a study's arms)");
  run->add_option("--study", so.study, "the study this run is an arm of (ergon study sets it)");
  run->add_option("--study-arm", so.study_arm, "its arm in the study (default: the strategy's name)");
  run->add_option("--db", so.db, "archive file (default ergon.db)");
  run->add_option("--resume", so.resume, "continue run RUN of this archive");
  run->add_option("--meta-every", so.meta_every,
                  "every N new candidates, rebuild from the archive a digest of which changes helped and which hurt, "
                  "carried in later prompts (default 10; 0 turns it off)")
      ->check(CLI::Range(0, 1000000));
  run->add_option("--repair-turns", so.repair_turns,
                  "times an edit that cannot be used (or is not novel) goes back to the agent, in the same "
                  "conversation, before the proposal counts as failed (default 2)")
      ->check(CLI::Range(0, 10));
  run->add_flag("!--no-cascade", so.cascade,
               "skip the cascade: by default, under a slow meter (cachemodel, nvml) each candidate is first run on "
               "one instance under the wall meter, and one that fails there never reaches the slow meter");
  run->add_option("--novelty", so.novelty,
                  "refuse, before evaluation, a proposal whose normalised-token similarity to an archived candidate "
                  "is at least this (default 1.0: it differs only in comments and layout; 0 turns it off)")
      ->check(CLI::Range(0.0, 1.0));
  run->add_option("--meter", so.meter, "learners: cachemodel | nvml | wall (default: the task's, from task.json)");
  add_tasks(run);
  run->add_option("--instances", so.instances, "instances per evaluation (default: the task's)")->check(CLI::Range(1, 1 << 20));
  run->add_option("--eval-timeout", so.eval_timeout_s, "seconds a candidate may run per instance (default: the task's)");
  run->add_option("--agent-timeout", so.agent_timeout_s, "seconds an agent call may take (default 120)");
  run->add_option("--agent-backoff", so.agent_backoff_s, "first retry wait in seconds after 429/5xx/timeouts (default 1)");
  run->add_option("--prompts", so.prompts_dir, "folder with system.txt, mutate.txt, repair.txt (default: ergon's)");
  run->add_option("--price-in", so.price_in, "USD per million input tokens (overrides the model table)");
  run->add_option("--price-out", so.price_out, "USD per million output tokens");
  run->add_option("--executor", so.executor,
                  "where evaluations run: local (default, this machine) | slurm (a Slurm job each; this process "
                  "stays the only writer of the archive)")
      ->check(CLI::IsMember({"local", "slurm"}));
  run->add_option("--spool", so.spool,
                  "slurm: a folder every node sees, for requests and results (default: DB.spool beside the archive)");
  run->add_option("--slurm-partition", so.slurm_partition, "slurm: the partition (default: the cluster's)");
  run->add_option("--slurm-gres", so.slurm_gres, "slurm: generic resources per job, e.g. gpu:1 (default: gpu:1 "
                                                 "under the nvml meter, else none)");
  run->add_option("--slurm-args", so.slurm_args, "slurm: more sbatch arguments, e.g. \"--time=30 --qos=low\"");
  run->add_option("--slurm-submissions", so.slurm_submissions,
                  "slurm: submissions per evaluation before it counts as an infrastructure failure (default 3)")
      ->check(CLI::Range(1, 100));
  EvalArgs eval_args;
  StudyOptions study_opt;
  std::string study_arms = "evolve,independent";
  double study_target = 0;
  auto* study = app.add_subcommand(
      "study", "compare search strategies: each over several seeds on one task, into one archive; the best against "
               "candidates, tokens and dollars, and a rank test between them");
  study->add_option("--task", study_opt.task, "task name (see `ergon tasks`)")->required();
  study->add_option("--strategies", study_arms, "arms that differ by strategy, comma-separated: evolve | independent "
                                                "| hillclimb (\"\" for none)")
      ->capture_default_str();
  std::vector<std::string> study_arm_specs;
  study->add_option("--arm", study_arm_specs,
                    "another arm, NAME=FLAGS: the run flags that make it (\"gpt=--agent openai --model gpt-4o\", "
                    "\"night=--config night.toml\", \"climb=--strategy hillclimb\"); repeatable")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  study->add_option("--seeds", study_opt.seeds, "runs per arm, seeds 1..N")->check(CLI::Range(1, 1000))->capture_default_str();
  study->add_option("--name", study_opt.name, "the study's name in the archive (run again to resume it)")
      ->capture_default_str();
  study->add_option("--target", study_target, "a value of the task's metric: report what each arm needed to reach it");
  study->add_option("--db", study_opt.db, "archive file")->capture_default_str();
  study->add_flag("--json", json, "print one JSON object");
  add_tasks(study);
  study->allow_extras();
  study->footer("Every other flag goes to each `ergon run` (--agent, --model, --max-candidates, --max-time, "
                "--executor ...): the same agents and budgets for every arm. Each arm at each seed is one run "
                "with --isolated: it sees only its own candidates and the baseline.");
  auto* eval = app.add_subcommand("eval", "compile, run and score one candidate on a task (exit 0: passed the "
                                          "task's gate; 3: ran but below the gate; 1: did not run)");
  eval->add_option("--task", eval_args.task, "task name (see `ergon tasks`)")->required();
  eval->add_option("file", eval_args.file, "candidate source (default: the task's baseline)");
  eval->add_option("--meter", eval_args.meter, "the task's meters (`ergon tasks --json`); default from task.json");
  eval->add_option("--suite", eval_args.suite, "dev (default) | fresh (| a suite KEY where the task has them)");
  eval->add_option("--instances", eval_args.instances, "instances (default: the task's)")
      ->check(CLI::Range(1, 1 << 20));
  eval->add_option("--timeout", eval_args.timeout_s, "wall and CPU seconds the candidate may run per instance (default: the task's)")
      ->check(CLI::Range(0.1, 86400.0));
  eval->add_option("--db", eval_args.db, "also record the candidate and its evaluation in this archive");
  eval->add_flag("--json", json, "print one JSON object");
  add_tasks(eval);
  // --tier of score and optimize-ir: a sparse-parity tier or a checked board.
  const CLI::Validator tier_names(
      [](std::string& t) {
        return evaluators::dally::IsTier(t) ? std::string()
                                            : fmt::format("unknown tier '{}' ({})", t, evaluators::dally::kTierNames);
      },
      "TIER");
  evaluators::dally::ScoreRequest score_req;
  auto* score = app.add_subcommand("score", "score a Dally IR program: static cost, and recovery/accuracy on a suite");
  score->add_option("file", score_req.path, "IR file")->required();
  score->add_option("--tier", score_req.tier,
                    fmt::format("{} (default mask32; any matmulNxN or symmetryN: checked exactly, no suite)",
                                evaluators::dally::kTierNames))
      ->check(tier_names);
  score->add_option("--suite", score_req.suite,
                    "fresh (default: new secret instances) | dev (the group's official suite; seeds 0..63 for "
                    "small/medium) | seeds | any other key (mask32: a deterministic keyed suite)");
  score->add_option("--instances", score_req.instances, "instances (default: mask32 2048, small 64, medium 8)")
      ->check(CLI::Range(1, 1 << 20));
  score->add_flag("--profile", score_req.profile,
                  "with --json: where the cost goes (by operation, address band, hottest addresses)");
  score->add_flag("--json", json, "print one JSON object");
  evaluators::dally::OptimizeRequest opt_req;
  auto* optimize = app.add_subcommand("optimize-ir",
                                      "lower an IR program's cost without changing its function (verified)");
  optimize->add_option("file", opt_req.in_path, "input IR")->required();
  optimize->add_option("-o,--output", opt_req.out_path, "output IR (written only after verification)")->required();
  optimize->add_option("--tier", opt_req.tier,
                       fmt::format("{} (default mask32; a board's result must pass its checker)",
                                   evaluators::dally::kTierNames))
      ->check(tier_names);
  optimize->add_option_function<std::string>(
              "--layout", [&opt_req](const std::string& v) { opt_req.flow = v == "flow"; },
              "flow (default: adds the tier-by-tier min-cost flow layout and the order's lower bound; seconds on "
              "50,000 lines) | fast (the greedy layouts alone)")
      ->check(CLI::IsMember({"flow", "fast"}));
  optimize->add_option("--moves", opt_req.moves,
                       "annealing moves over instruction order, copies and sums, each state priced by a flow layout "
                       "(programs of at most 1,500 ops; about 0.3 ms each at 100 ops; 0: none)")
      ->capture_default_str();
  optimize->add_option("--placed-moves", opt_req.placed_moves,
                       "annealing moves over the program as written: addresses, op order and copies together, each "
                       "priced by what it changes (any size; about 5 us each on 10,000 ops, 20 us on 60,000; 0: none)")
      ->capture_default_str();
  optimize->add_option("--seed", opt_req.seed, "the search's seed (the same seed, the same result)")
      ->capture_default_str();
  optimize->add_option("--fresh", opt_req.fresh_instances, "fresh instances to verify on besides the official ones")
      ->check(CLI::Range(0, 1 << 20));
  optimize->add_flag_callback("--no-verify", [&opt_req] { opt_req.verify = false; },
                     "write without comparing outputs (what ergon's own transformation does: the evaluation that "
                     "follows scores the program anyway)");
  optimize->add_flag("--json", json, "print one JSON object");
  ArchiveArgs arch;
  auto* archive = app.add_subcommand("archive", "inspect the archive (human tables; --json for scripts)");
  archive->add_option("--db", arch.db, "archive file (default ergon.db)");
  archive->add_flag("--json", arch.json, "print JSON (an array, or one object for show)");
  add_tasks(archive);
  archive->fallthrough();  // --db/--json/--tasks also after the subcommand
  archive->require_subcommand(1);
  auto* a_list = archive->add_subcommand("list", "candidates, newest first");
  a_list->add_option("--run", arch.run, "only this run");
  a_list->add_option("--status", arch.status, "evaluated | pending | overfit | failed (failed attempts: `archive attempts`)")
      ->check(CLI::IsMember({"evaluated", "pending", "overfit", "failed"}));
  a_list->add_option("--task", arch.task, "only this task");
  a_list->add_option("--limit", arch.limit, "at most N (default 20; 0 = all)");
  auto* a_top = archive->add_subcommand("top", "gate-passed candidates, best first");
  a_top->add_option("--by", arch.by, "fitness (default) or any metric of the task (`ergon tasks --json` lists them)");
  a_top->add_option("--task", arch.task, "only this task");
  a_top->add_option("--limit", arch.limit, "at most N (default 20)");
  auto* a_show = archive->add_subcommand("show", "one candidate: metrics, lineage, source, feedback");
  a_show->add_option("id", arch.id, "candidate id")->required();
  a_show->add_flag("--full", arch.full, "print the whole source (default: the first 200 lines)");
  auto* a_attempts = archive->add_subcommand("attempts", "failed attempts (edit errors, duplicates, agent and harness "
                                                         "failures, cut-offs), newest first");
  a_attempts->add_option("--run", arch.run, "only this run");
  a_attempts->add_option("--limit", arch.limit, "at most N (default 20; 0 = all)");
  auto* a_search = archive->add_subcommand("search", "full-text search over source, intent and feedback");
  a_search->add_option("text", arch.text, "words (all must appear)")->required();
  a_search->add_option("--limit", arch.limit, "at most N (default 20)");
  auto* a_lineage = archive->add_subcommand("lineage", "ancestors with the metric change at each step");
  a_lineage->add_option("id", arch.id, "candidate id")->required();
  auto* a_diff = archive->add_subcommand("diff", "unified diff of two candidates' sources");
  a_diff->add_option("a", arch.id, "candidate id")->required();
  a_diff->add_option("b", arch.other, "candidate id")->required();
  auto* a_pareto = archive->add_subcommand("pareto", "the Pareto front");
  a_pareto->add_option("--task", arch.task, "only this task");
  archive->add_subcommand("runs", "runs with their settings and status");
  archive->add_subcommand("ledger", "agent calls: spend per model, per run");
  auto* a_export = archive->add_subcommand("export", "write a standalone folder for a candidate");
  a_export->add_option("id", arch.id, "candidate id")->required();
  a_export->add_option("-o,--output", arch.out_dir, "folder to create")->required();

  ReplayArgs rep;
  auto* replay = app.add_subcommand("replay", "re-evaluate an archived candidate and compare with the stored result");
  replay->add_option("id", rep.id, "candidate id")->required();
  replay->add_option("--db", rep.db, "archive file (default ergon.db)");
  replay->add_option("--meter", rep.meter, "meter to replay with (default: the stored one)");
  replay->add_option("--emit", rep.emit_dir, "also write a standalone folder (source, build line, spec, README)");
  replay->add_option("--timeout", rep.timeout_s, "seconds the candidate may run per instance (default: the task's)");
  replay->add_flag("--json", rep.json, "print one JSON object");
  add_tasks(replay);

  ServeArgs srv;
  auto* serve = app.add_subcommand("serve", "web dashboard over the archive (read-only): runs live, front, lineage, "
                                            "candidates, ledger, search, and a JSON API under /api/");
  serve->add_option("--db", srv.db, "archive file (default ergon.db)");
  serve->add_option("--host", srv.host, "address to listen on (default 127.0.0.1; any other is reachable by others)");
  serve->add_option("--port", srv.port, "port (default 8484; 0 picks a free one and prints it)")
      ->check(CLI::Range(0, 65535));
  add_tasks(serve);

  std::string job_dir;
  auto* eval_job = app.add_subcommand("eval-job", "what a cluster job runs (ergon run --executor slurm): measure "
                                                  "DIR/request.json, write DIR/result.json");
  eval_job->add_option("dir", job_dir, "the evaluation's spool folder")->required();

  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "run")
    for (std::size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--config" && i + 1 < args.size()) {
        std::vector<std::string> moved = {args[i], args[i + 1]};
        args.erase(args.begin() + static_cast<std::ptrdiff_t>(i), args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
        args.insert(args.begin(), moved.begin(), moved.end());
        break;
      }
      if (args[i].rfind("--config=", 0) == 0) {
        std::string moved = args[i];
        args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
        args.insert(args.begin(), moved);
        break;
      }
    }
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion&) {
    fmt::print("ergon {}\n", ERGON_VERSION);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    if (const auto at = msg.find("INI was not able to parse "); at != std::string::npos)
      msg = "the run file has a key `ergon run` does not know: " + msg.substr(at + 26) +
            " (keys are run's flags without their dashes, under [run])";
    auto* sub = app.get_subcommands().empty() ? nullptr : app.get_subcommands().front();
    if (!sub && argc > 1 && argv[1][0] != '-') msg = fmt::format("unknown command '{}'", argv[1]);
    if (sub)
      fmt::print(stderr, "ergon {}: {}\nRun 'ergon {} --help' for its options.\n", sub->get_name(), msg,
                 sub->get_name());
    else
      fmt::print(stderr, "ergon: {}\nRun 'ergon --help' for the commands.\n", msg);
    return kUsage;
  }

  if (tasks->parsed()) return CmdTasks(tasks_dirs, json);
  if (doctor->parsed()) return Doctor();
  if (run->parsed()) {
    if (!so.agent_params.empty() && so.agent != "openai" && so.agent != "anthropic") {
      fmt::print(stderr, "ergon run: --agent-param needs --agent openai or anthropic (the {} agent takes no "
                 "sampling settings)\nRun 'ergon run --help' for its options.\n", so.agent);
      return kUsage;
    }
    if (so.task.empty() && !so.resume) {
      fmt::print(stderr, "ergon run: --task is required (or --resume RUN, which knows its task)\nRun 'ergon run "
                 "--help' for its options.\n");
      return kUsage;
    }
    if (!max_time.empty()) {
      auto t = ParseDuration(max_time);
      if (!t) {
        fmt::print(stderr, "ergon run: --max-time {}: use a number with s, m or h (e.g. 30m)\nRun 'ergon run --help' for its options.\n", max_time);
        return kUsage;
      }
      so.max_time_s = *t;
    }
    auto home = FindHome();
    if (!home) {
      fmt::print(stderr, "ergon run: {}\n", home.error());
      return 1;
    }
    so.home = *home;
    so.tasks_dirs = tasks_dirs;
    // The spool's default, beside the archive. A resumed run keeps its
    // stored spool unless --spool is given again (Search::KeepStoredExecutor).
    if (so.spool.empty()) so.spool = so.db + ".spool";
    if (so.executor != "slurm")
      for (const char* flag : {"--spool", "--slurm-partition", "--slurm-gres", "--slurm-args", "--slurm-submissions"})
        if (run->count(flag) > 0) {
          fmt::print(stderr, "ergon run: {} needs --executor slurm\nRun 'ergon run --help' for its options.\n", flag);
          return kUsage;
        }
    so.seed = static_cast<std::uint64_t>(seed);
    so.strategy = *ParseStrategy(strategy);
    // The run as launched, as a run file: every flag's value, given or
    // default (--resume names a run, so it is left out).
    // Flags given (on the command line or in a run file) as `key=value`;
    // the others as comments with their default, so the file says all and
    // reads back as exactly this launch.
    so.config = fmt::format("# ergon {} run file: flags as given; commented lines are defaults\n[run]\n", ERGON_VERSION);
    std::set<std::string> given_keys;
    {
      std::istringstream lines(run->config_to_str(false, false));
      for (std::string line; std::getline(lines, line);)
        if (line.rfind("resume=", 0) != 0) {
          given_keys.insert(line.substr(0, line.find('=')));
          so.config += line + "\n";
        }
    }
    std::istringstream lines(run->config_to_str(true, false));
    for (std::string line; std::getline(lines, line);)
      if (!given_keys.count(line.substr(0, line.find('='))) && line.rfind("resume=", 0) != 0)
        so.config += "# " + line + "\n";
    for (const char* flag : {"--max-candidates", "--max-time", "--max-cost", "--max-tokens", "--executor", "--spool",
                             "--slurm-partition", "--slurm-gres", "--slurm-args", "--slurm-submissions", "--strategy",
                             "--isolated"})
      if (run->count(flag) > 0) so.given.push_back(flag);
    // A night given only a time (or spend) budget runs until that budget:
    // the 10-candidate default is for a run given no budget at all.
    const auto given = [&so](const char* f) { return std::find(so.given.begin(), so.given.end(), f) != so.given.end(); };
    if (!so.resume && !given("--max-candidates") && (given("--max-time") || given("--max-cost") || given("--max-tokens")))
      so.max_candidates = kNoCandidateLimit;
    return RunSearch(so);
  }
  eval_args.tasks_dirs = arch.tasks_dirs = rep.tasks_dirs = srv.tasks_dirs = tasks_dirs;
  if (study->parsed()) {
    study_opt.tasks_dirs = tasks_dirs;
    study_opt.json = json;
    if (study->count("--target") > 0) study_opt.target = study_target;
    std::vector<std::string> specs;
    std::istringstream arms(study_arms);
    for (std::string a; std::getline(arms, a, ',');)
      if (!a.empty()) specs.push_back(a);
    specs.insert(specs.end(), study_arm_specs.begin(), study_arm_specs.end());
    for (const auto& spec : specs) {
      auto arm = ParseArm(spec);
      if (!arm) {
        fmt::print(stderr, "ergon study: {}\nRun 'ergon study --help' for its options.\n", arm.error());
        return kUsage;
      }
      study_opt.arms.push_back(std::move(*arm));
    }
    study_opt.run_args = study->remaining();
    std::error_code ec;
    study_opt.ergon = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec || study_opt.ergon.empty()) study_opt.ergon = argv[0];
    return RunStudy(study_opt);
  }
  if (eval->parsed()) return CmdEval(eval_args, json);
  if (score->parsed()) return CmdScore(score_req, json);
  if (optimize->parsed()) return CmdOptimizeIr(opt_req, json);
  if (archive->parsed()) {
    for (auto* sub : archive->get_subcommands()) return CmdArchive(sub->get_name(), arch);
    return kUsage;
  }
  if (replay->parsed()) return CmdReplay(rep);
  if (serve->parsed()) return CmdServe(srv);
  if (eval_job->parsed()) return CmdEvalJob(job_dir);
  return kUsage;
}

}  // namespace ergon::engine
