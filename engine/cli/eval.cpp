// `ergon eval`: one candidate on a task.
#include <memory>

#include <CLI/CLI.hpp>

#include "engine/cli/subcommand.h"
#include "engine/commands.h"

namespace ergon::engine::cli {

Runner DeclareEval(CLI::App& sub, Common& c) {
  auto a = std::make_shared<EvalArgs>();
  sub.add_option("--task", a->task, "task name (see `ergon tasks`)")->required();
  sub.add_option("file", a->file, "candidate source (default: the task's baseline)");
  sub.add_option("--meter", a->meter, "the task's meters (`ergon tasks --json`); default from task.json");
  sub.add_option("--suite", a->suite, "dev (default) | fresh (| a suite KEY where the task has them)");
  sub.add_option("--instances", a->instances, "instances (default: the task's)")->check(CLI::Range(1, 1 << 20));
  sub.add_option("--timeout", a->timeout_s,
                 "wall and CPU seconds the candidate may run per instance (default: the task's)")
      ->check(CLI::Range(0.1, 86400.0));
  sub.add_option("--db", a->db, "also record the candidate and its evaluation in this archive");
  sub.add_flag("--json", c.json, "print one JSON object");
  AddTasksOption(sub, a->tasks_dirs);
  return [a, &c] { return CmdEval(*a, c.json); };
}

}  // namespace ergon::engine::cli
