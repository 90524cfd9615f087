// `ergon archive ...`: the archive's tables and records (archive_cli.cpp
// prints them).
#include <memory>

#include <CLI/CLI.hpp>

#include "engine/cli/subcommand.h"
#include "engine/commands.h"

namespace ergon::engine::cli {

Runner DeclareArchive(CLI::App& sub, Common&) {
  auto a = std::make_shared<ArchiveArgs>();
  sub.add_option("--db", a->db, "archive file (default ergon.db)");
  sub.add_flag("--json", a->json, "print JSON (an array, or one object for show)");
  AddTasksOption(sub, a->tasks_dirs);
  sub.fallthrough();  // --db/--json/--tasks also after the subcommand
  sub.require_subcommand(1);
  auto* list = sub.add_subcommand("list", "candidates, newest first");
  list->add_option("--run", a->run, "only this run");
  list->add_option("--status", a->status,
                   "evaluated | pending | overfit | failed (failed attempts: `archive attempts`)")
      ->check(CLI::IsMember({"evaluated", "pending", "overfit", "failed"}));
  list->add_option("--task", a->task, "only this task");
  list->add_option("--limit", a->limit, "at most N (default 20; 0 = all)");
  auto* top = sub.add_subcommand("top", "gate-passed candidates, best first");
  top->add_option("--by", a->by, "fitness (default) or any metric of the task (`ergon tasks --json` lists them)");
  top->add_option("--task", a->task, "only this task");
  top->add_option("--limit", a->limit, "at most N (default 20)");
  auto* show = sub.add_subcommand("show", "one candidate: metrics, lineage, source, feedback");
  show->add_option("id", a->id, "candidate id")->required();
  show->add_flag("--full", a->full, "print the whole source (default: the first 200 lines)");
  auto* attempts = sub.add_subcommand("attempts", "failed attempts (edit errors, duplicates, agent and harness "
                                                  "failures, cut-offs), newest first");
  attempts->add_option("--run", a->run, "only this run");
  attempts->add_option("--limit", a->limit, "at most N (default 20; 0 = all)");
  auto* search = sub.add_subcommand("search", "full-text search over source, intent and feedback");
  search->add_option("text", a->text, "words (all must appear)")->required();
  search->add_option("--limit", a->limit, "at most N (default 20)");
  auto* lineage = sub.add_subcommand("lineage", "ancestors with the metric change at each step");
  lineage->add_option("id", a->id, "candidate id")->required();
  auto* diff = sub.add_subcommand("diff", "unified diff of two candidates' sources");
  diff->add_option("a", a->id, "candidate id")->required();
  diff->add_option("b", a->other, "candidate id")->required();
  auto* pareto = sub.add_subcommand("pareto", "the Pareto front");
  pareto->add_option("--task", a->task, "only this task");
  sub.add_subcommand("runs", "runs with their settings and status");
  sub.add_subcommand("ledger", "agent calls: spend per model, per run");
  auto* exp = sub.add_subcommand("export", "write a standalone folder for a candidate");
  exp->add_option("id", a->id, "candidate id")->required();
  exp->add_option("-o,--output", a->out_dir, "folder to create")->required();
  return [a, &sub] {
    for (auto* s : sub.get_subcommands()) return CmdArchive(s->get_name(), *a);
    return kUsage;
  };
}

}  // namespace ergon::engine::cli
