// CLI11 lives in this one file (it is a heavy header).
#include "engine/cli.h"

#include <cstdio>
#include <string>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "engine/doctor.h"
#include "engine/home.h"
#include "evaluators/dally/score_file.h"
#include "evaluators/task_catalog.h"

#ifndef ERGON_VERSION
#define ERGON_VERSION "0.0.0"
#endif

namespace ergon::engine {
namespace {

constexpr int kUsage = 2;

int Tasks(bool json) {
  auto home = FindHome();
  if (!home) {
    fmt::print(stderr, "ergon: {}\n", home.error());
    return 1;
  }
  auto tasks = evaluators::ListTasks(*home + "/evaluators");
  if (!tasks) {
    fmt::print(stderr, "ergon: {}\n", tasks.error());
    return 1;
  }
  if (json) {
    std::string out = "[";
    for (std::size_t i = 0; i < tasks->size(); ++i) {
      const auto& t = (*tasks)[i];
      // Summaries are ours (task.json), but escape quotes and backslashes anyway.
      std::string s;
      for (char c : t.summary) {
        if (c == '"' || c == '\\') s += '\\';
        s += c;
      }
      out += fmt::format("{}{{\"name\":\"{}\",\"summary\":\"{}\",\"language\":\"{}\",\"evaluator\":{}}}",
                         i ? "," : "", t.name, s, t.language, t.has_evaluator ? "true" : "false");
    }
    fmt::print("{}]\n", out);
    return 0;
  }
  fmt::print("tasks in {}/evaluators:\n", *home);
  for (const auto& t : *tasks)
    fmt::print("  {:<16} {}{}\n", t.name, t.summary, t.has_evaluator ? "" : "  [evaluator not built yet]");
  return 0;
}

int Score(const evaluators::dally::ScoreRequest& request, bool json) {
  auto home = FindHome();
  evaluators::dally::ScoreRequest q = request;
  if (home) q.suites_dir = *home + "/evaluators/dally_parity/suites";
  if (q.suite == "dev" && !home) {
    fmt::print(stderr, "ergon score: {}\n", home.error());
    return 1;
  }
  auto r = evaluators::dally::ScoreFile(q);
  if (json) fmt::print("{}\n", evaluators::dally::ReportJson(r));
  else if (r.ran) fmt::print("{}\n", evaluators::dally::ReportText(r));
  else fmt::print(stderr, "ergon score: {}: {}\n", q.path, r.status);
  return r.ran ? 0 : 1;
}

int OptimizeIr(const evaluators::dally::OptimizeRequest& request, bool json) {
  auto home = FindHome();
  if (!home) {
    fmt::print(stderr, "ergon optimize-ir: {}\n", home.error());
    return 1;
  }
  evaluators::dally::OptimizeRequest q = request;
  q.suites_dir = *home + "/evaluators/dally_parity/suites";
  auto r = evaluators::dally::OptimizeFile(q);
  if (json) {
    fmt::print("{{\"status\":\"{}\",\"cost_before\":{},\"cost_after\":{},\"lines_before\":{},\"lines_after\":{},"
               "\"dead_ops\":{},\"verified_instances\":{}}}\n",
               r.ok ? "ok" : "error", r.cost_before, r.cost_after, r.lines_before, r.lines_after, r.dead_ops,
               r.verified_instances);
  }
  if (!r.ok) {
    fmt::print(stderr, "ergon optimize-ir: {}\n", r.status);
    return 1;
  }
  if (!json)
    fmt::print("cost {} -> {} ({:.3f}x lower), lines {} -> {} ({} dead ops removed); outputs identical on {} "
               "instances (official + fresh); wrote {} in {:.2f} s\n",
               r.cost_before, r.cost_after, static_cast<double>(r.cost_before) / static_cast<double>(r.cost_after),
               r.lines_before, r.lines_after, r.dead_ops, r.verified_instances, q.out_path, r.seconds);
  return 0;
}

int NotYet(const std::string& command, const std::string& issue) {
  fmt::print(stderr, "ergon {}: not implemented yet (tracked in the issue \"{}\")\n", command, issue);
  return 1;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"ergon: agent-driven search for energy-efficient learning algorithms", "ergon"};
  app.set_version_flag("--version", std::string("ergon ") + ERGON_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  bool json = false;
  auto* tasks = app.add_subcommand("tasks", "list the task folders under evaluators/");
  tasks->add_flag("--json", json, "print one JSON array");

  auto* doctor = app.add_subcommand("doctor", "show which sandbox isolation, compilers and meters work here");

  // Subcommands that later issues fill in. They parse their documented
  // flags already, so scripts fail loudly on typos, and say they are not built.
  std::string task, agent = "offline", model, db = "ergon.db", file, tier = "mask32", suite, meter;
  auto* run = app.add_subcommand("run", "run a search: sample, prompt, propose, evaluate, record (not built yet)");
  run->add_option("--task", task, "task name (see `ergon tasks`)")->required();
  run->add_option("--agent", agent, "offline | openai | anthropic | cli");
  run->add_option("--model", model, "model name for LLM agents");
  run->add_option("--db", db, "archive file");
  auto* eval = app.add_subcommand("eval", "evaluate one candidate on a task (not built yet)");
  eval->add_option("--task", task, "task name")->required();
  eval->add_option("file", file, "candidate source (default: the task's baseline)");
  eval->add_option("--meter", meter, "cachemodel | nvml | wall");
  eval->add_flag("--json", json, "print one JSON object");
  evaluators::dally::ScoreRequest score_req;
  auto* score = app.add_subcommand("score", "score a Dally IR program: static cost, and recovery/accuracy on a suite");
  score->add_option("file", score_req.path, "IR file")->required();
  score->add_option("--tier", score_req.tier, "small | medium | mask32 (default mask32)")
      ->check(CLI::IsMember({"small", "medium", "mask32"}));
  score->add_option("--suite", score_req.suite,
                    "fresh (default: new secret instances) | dev (the group's official suite; seeds 0..63 for "
                    "small/medium) | seeds | any other key (mask32: a deterministic keyed suite)");
  score->add_option("--instances", score_req.instances, "instances (default: mask32 2048, small 64, medium 8)")
      ->check(CLI::Range(1, 1 << 20));
  score->add_flag("--json", json, "print one JSON object");
  evaluators::dally::OptimizeRequest opt_req;
  auto* optimize = app.add_subcommand("optimize-ir",
                                      "lower an IR program's cost without changing its function (verified)");
  optimize->add_option("file", opt_req.in_path, "input IR")->required();
  optimize->add_option("-o,--output", opt_req.out_path, "output IR (written only after verification)")->required();
  optimize->add_option("--tier", opt_req.tier, "small | medium | mask32 (default mask32)")
      ->check(CLI::IsMember({"small", "medium", "mask32"}));
  optimize->add_option("--fresh", opt_req.fresh_instances, "fresh instances to verify on besides the official ones")
      ->check(CLI::Range(0, 1 << 20));
  optimize->add_flag("--json", json, "print one JSON object");
  auto* archive = app.add_subcommand("archive", "inspect the archive: list, top, show, search, ... (not built yet)");
  archive->allow_extras();
  auto* replay = app.add_subcommand("replay", "re-evaluate an archived candidate (not built yet)");
  replay->allow_extras();

  try {
    app.parse(argc, argv);
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
    auto* sub = app.get_subcommands().empty() ? nullptr : app.get_subcommands().front();
    if (!sub && argc > 1 && argv[1][0] != '-') msg = fmt::format("unknown command '{}'", argv[1]);
    if (sub)
      fmt::print(stderr, "ergon {}: {}\nRun 'ergon {} --help' for its options.\n", sub->get_name(), msg,
                 sub->get_name());
    else
      fmt::print(stderr, "ergon: {}\nRun 'ergon --help' for the commands.\n", msg);
    return kUsage;
  }

  if (tasks->parsed()) return Tasks(json);
  if (doctor->parsed()) return Doctor();
  if (run->parsed()) return NotYet("run", "Orchestrator, agents and prompts");
  if (eval->parsed()) return NotYet("eval", "Learning-task harness / Dally IR evaluator");
  if (score->parsed()) return Score(score_req, json);
  if (optimize->parsed()) return OptimizeIr(opt_req, json);
  if (archive->parsed()) return NotYet("archive", "Archive");
  if (replay->parsed()) return NotYet("replay", "Archive");
  return kUsage;
}

}  // namespace ergon::engine
