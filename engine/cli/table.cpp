// The table of subcommands, and what they share.
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "engine/cli/subcommand.h"
#include "engine/home.h"
#include "evaluators/task_commands.h"

namespace ergon::engine::cli {

void AddTasksOption(CLI::App& sub, std::vector<std::string>& dirs) {
  sub.add_option("--tasks", dirs,
                  "a folder of task folders (or one task folder) to search before ergon's own; repeatable; "
                  "$ERGON_TASKS (colon-separated) adds more")
      ->expected(1)
      ->allow_extra_args(false)  // one value per flag: `--tasks DIR FILE` leaves FILE to the positional
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

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

std::vector<Subcommand> Subcommands() {
  std::vector<Subcommand> t = {
      {"tasks", "list the tasks: ergon's evaluators/, $ERGON_TASKS and --tasks folders", DeclareTasks},
      {"doctor", "show which sandbox isolation, compilers and meters work here", DeclareDoctor},
      {"run", "search: sample, prompt, propose, evaluate, record, within budgets", DeclareRun},
      {"study",
       "compare search strategies: each over several seeds on one task, into one archive; the best against "
       "candidates, tokens and dollars, and a rank test between them",
       DeclareStudy},
      {"eval",
       "compile, run and score one candidate on a task (exit 0: passed the task's gate; 3: ran but below the gate; "
       "1: did not run)",
       DeclareEval},
  };
  // The task families' own tools, next to eval as before.
  for (auto& tc : evaluators::TaskCommands())
    t.push_back({tc.name, tc.summary, [declare = tc.declare](CLI::App& sub, Common& c) -> Runner {
                   evaluators::TaskCommandContext ctx;
                   ctx.json = &c.json;
                   ctx.home = [] { return FindHome(); };
                   return declare(sub, ctx);
                 }});
  t.push_back({"archive", "inspect the archive (human tables; --json for scripts)", DeclareArchive});
  t.push_back({"replay", "re-evaluate an archived candidate and compare with the stored result", DeclareReplay});
  t.push_back({"serve",
               "web dashboard over the archive (read-only): runs live, front, lineage, candidates, ledger, search, "
               "and a JSON API under /api/",
               DeclareServe});
  t.push_back({"eval-job",
               "what a cluster job runs (ergon run --executor slurm): measure DIR/request.json, write "
               "DIR/result.json",
               DeclareEvalJob});
  return t;
}

}  // namespace ergon::engine::cli
