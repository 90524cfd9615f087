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
#include "evaluators/dally_parity_task.h"
#include "evaluators/sparse_parity_task.h"
#include "evaluators/task_catalog.h"
#include "sandbox/sandbox.h"

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

struct EvalArgs {
  std::string task, file, meter, suite = "dev";
  std::size_t instances = 0;
  double timeout_s = 120;
};

std::string ReadText(const std::string& path, bool& ok) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  ok = f != nullptr;
  std::string s;
  if (!f) return s;
  char buf[65536];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) s.append(buf, n);
  std::fclose(f);
  return s;
}

int EvalLearner(const EvalArgs& a, const std::string& path, const std::string& source, bool json) {
  auto sb = sandbox::Sandbox::Create();
  if (!sb) {
    fmt::print(stderr, "ergon eval: {}\n", sb.error());
    return 1;
  }
  evaluators::LearnEvalRequest q;
  q.source = source;
  q.cuda = path.size() > 3 && path.substr(path.size() - 3) == ".cu";
  q.meter = a.meter.empty() ? "cachemodel" : a.meter;
  q.suite = a.suite;
  q.instances = a.instances ? static_cast<int>(a.instances) : 3;
  q.timeout_s = a.timeout_s;
  if (q.meter != "cachemodel" && q.meter != "nvml" && q.meter != "wall") {
    fmt::print(stderr, "ergon eval: unknown meter '{}' (cachemodel | nvml | wall)\n", q.meter);
    return 2;
  }
  if (q.suite != "dev" && q.suite != "fresh") {
    fmt::print(stderr, "ergon eval: sparse_parity suites are dev and fresh (got '{}')\n", q.suite);
    return 2;
  }
  if (!json) fmt::print(stderr, "ergon eval: {} on {} instance(s) of the {} suite, meter {}...\n", path, q.instances, q.suite, q.meter);
  auto r = evaluators::EvaluateSparseParity(*sb, q);
  if (json) {
    fmt::print("{}\n", evaluators::LearnReportJson(r));
  } else if (r.ran) {
    fmt::print("{}: accuracy {:.4f} ({})  energy {}  wall {:.2f} s  cpu {:.2f} s per instance  meter {}  suite {}\n",
               path, r.accuracy, r.gate_passed ? "gate passed" : "gate FAILED",
               r.energy_j ? fmt::format("{:.6e} J per instance", *r.energy_j) : std::string("not measured (wall meter)"),
               r.wall_s, r.cpu_s, r.meter, r.suite);
    if (r.meter == "cachemodel")
      fmt::print("  components per instance: instructions {:.3e} J, L1 {:.3e} J, LL {:.3e} J, DRAM {:.3e} J\n",
                 r.components.instructions_j, r.components.l1_j, r.components.ll_j, r.components.dram_j);
  } else {
    fmt::print(stderr, "ergon eval: {}: {} (stage: {})\n", path, r.status, r.stage);
    if (!r.feedback.empty()) fmt::print(stderr, "{}\n", r.feedback.substr(0, 2000));
  }
  return r.ran ? 0 : 1;
}

int Eval(const EvalArgs& a, bool json) {
  auto home = FindHome();
  if (!home) {
    fmt::print(stderr, "ergon eval: {}\n", home.error());
    return 1;
  }
  auto tasks = evaluators::ListTasks(*home + "/evaluators");
  bool known = false, built = false;
  if (tasks)
    for (const auto& t : *tasks)
      if (t.name == a.task) { known = true; built = t.has_evaluator; }
  if (!known) {
    fmt::print(stderr, "ergon eval: unknown task '{}'; `ergon tasks` lists them\n", a.task);
    return 2;
  }
  if (!built) {
    fmt::print(stderr, "ergon eval: the {} harness is not in this build\n", a.task);
    return 1;
  }
  const std::string path = a.file.empty() ? *home + "/evaluators/" + a.task + "/baseline.cpp" : a.file;
  bool ok = false;
  std::string source = ReadText(path, ok);
  if (!ok) {
    fmt::print(stderr, "ergon eval: cannot read {}\n", path);
    return 1;
  }
  if (a.task == "sparse_parity") return EvalLearner(a, path, source, json);
  if (!a.meter.empty() && a.meter != "dally") {
    fmt::print(stderr, "ergon eval: task dally_parity is measured by the dally meter only (got --meter {})\n", a.meter);
    return 2;
  }
  auto sb = sandbox::Sandbox::Create();
  if (!sb) {
    fmt::print(stderr, "ergon eval: {}\n", sb.error());
    return 1;
  }
  evaluators::DallyEvalRequest q;
  q.source = source;
  q.suite = a.suite;
  q.instances = a.instances;
  q.generator_wall_s = a.timeout_s;
  q.generator_cpu_s = a.timeout_s;
  q.suites_dir = *home + "/evaluators/dally_parity/suites";
  auto r = evaluators::EvaluateDallyParity(*sb, q);
  if (json) {
    fmt::print("{}\n", evaluators::DallyReportJson(r));
  } else if (r.ran) {
    fmt::print("{}: cost {}  recovery {:.6f} ({}/{})  lines {}  suite {}  generator {:.2f} s wall, {:.2f} s cpu  "
               "compile {:.2f} s  score {:.1f} ms\n",
               path, r.cost, r.recovery, r.correct, r.instances, r.lines, r.suite, r.wall_s, r.cpu_s, r.compile_s,
               r.score_s * 1e3);
  } else {
    fmt::print(stderr, "ergon eval: {}: {} (stage: {})\n", path, r.status, r.stage);
    if (!r.feedback.empty()) fmt::print(stderr, "{}\n", r.feedback.substr(0, 2000));
  }
  return r.ran ? 0 : 1;
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
  EvalArgs eval_args;
  auto* eval = app.add_subcommand("eval", "compile, run and score one candidate on a task");
  eval->add_option("--task", eval_args.task, "task name (see `ergon tasks`)")->required();
  eval->add_option("file", eval_args.file, "candidate source (default: the task's baseline)");
  eval->add_option("--meter", eval_args.meter, "dally (dally_parity); cachemodel (default) | nvml | wall (sparse_parity)");
  eval->add_option("--suite", eval_args.suite, "dev (default) | fresh | any other key (dally_parity)");
  eval->add_option("--instances", eval_args.instances,
                   "instances (sparse_parity default 3; dally_parity generated suites default 2048)")
      ->check(CLI::Range(1, 1 << 20));
  eval->add_option("--timeout", eval_args.timeout_s, "wall and CPU seconds the candidate may run (default 120)")
      ->check(CLI::Range(0.1, 86400.0));
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
  if (eval->parsed()) return Eval(eval_args, json);
  if (score->parsed()) return Score(score_req, json);
  if (optimize->parsed()) return OptimizeIr(opt_req, json);
  if (archive->parsed()) return NotYet("archive", "Archive");
  if (replay->parsed()) return NotYet("replay", "Archive");
  return kUsage;
}

}  // namespace ergon::engine
