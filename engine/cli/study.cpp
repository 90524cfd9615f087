// `ergon study`: strategies compared over seeds (engine/study.h).
#include <filesystem>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "engine/cli/subcommand.h"
#include "engine/study.h"

namespace ergon::engine::cli {
namespace {

struct StudyFlags {
  StudyOptions opt;
  std::string strategies = "evolve,independent";
  std::vector<std::string> arms;
  double target = 0;
};

int Launch(CLI::App& sub, StudyFlags& f, const Common& c) {
  StudyOptions& opt = f.opt;
  opt.json = c.json;
  if (sub.count("--target") > 0) opt.target = f.target;
  std::vector<std::string> specs;
  std::istringstream strategies(f.strategies);
  for (std::string a; std::getline(strategies, a, ',');)
    if (!a.empty()) specs.push_back(a);
  specs.insert(specs.end(), f.arms.begin(), f.arms.end());
  for (const auto& spec : specs) {
    auto arm = ParseArm(spec);
    if (!arm) {
      fmt::print(stderr, "ergon study: {}\nRun 'ergon study --help' for its options.\n", arm.error());
      return kUsage;
    }
    opt.arms.push_back(std::move(*arm));
  }
  opt.run_args = sub.remaining();
  // Each arm's runs are children of this same binary.
  std::error_code ec;
  opt.ergon = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec || opt.ergon.empty()) opt.ergon = c.program;
  return RunStudy(opt);
}

}  // namespace

Runner DeclareStudy(CLI::App& sub, Common& c) {
  auto f = std::make_shared<StudyFlags>();
  sub.add_option("--task", f->opt.task, "task name (see `ergon tasks`)")->required();
  sub.add_option("--strategies", f->strategies, "arms that differ by strategy, comma-separated: evolve | "
                                                "independent | hillclimb (\"\" for none)")
      ->capture_default_str();
  sub.add_option("--arm", f->arms,
                 "another arm, NAME=FLAGS: the run flags that make it (\"gpt=--agent openai --model gpt-4o\", "
                 "\"night=--config night.toml\", \"climb=--strategy hillclimb\"); repeatable")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub.add_option("--seeds", f->opt.seeds, "runs per arm, seeds 1..N")->check(CLI::Range(1, 1000))->capture_default_str();
  sub.add_option("--name", f->opt.name, "the study's name in the archive (run again to resume it)")
      ->capture_default_str();
  sub.add_option("--target", f->target, "a value of the task's metric: report what each arm needed to reach it");
  sub.add_option("--db", f->opt.db, "archive file")->capture_default_str();
  sub.add_flag("--json", c.json, "print one JSON object");
  AddTasksOption(sub, f->opt.tasks_dirs);
  sub.allow_extras();
  sub.footer("Every other flag goes to each `ergon run` (--agent, --model, --max-candidates, --max-time, "
             "--executor ...): the same agents and budgets for every arm. Each arm at each seed is one run "
             "with --isolated: it sees only its own candidates and the baseline.");
  return [f, &c, &sub] { return Launch(sub, *f, c); };
}

}  // namespace ergon::engine::cli
