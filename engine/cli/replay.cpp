// `ergon replay`: an archived candidate measured again.
#include <memory>

#include <CLI/CLI.hpp>

#include "engine/cli/subcommand.h"
#include "engine/commands.h"

namespace ergon::engine::cli {

Runner DeclareReplay(CLI::App& sub, Common&) {
  auto a = std::make_shared<ReplayArgs>();
  sub.add_option("id", a->id, "candidate id")->required();
  sub.add_option("--db", a->db, "archive file (default ergon.db)");
  sub.add_option("--meter", a->meter, "meter to replay with (default: the stored one)");
  sub.add_option("--emit", a->emit_dir, "also write a standalone folder (source, build line, spec, README)");
  sub.add_option("--timeout", a->timeout_s, "seconds the candidate may run per instance (default: the task's)");
  sub.add_flag("--json", a->json, "print one JSON object");
  AddTasksOption(sub, a->tasks_dirs);
  return [a] { return CmdReplay(*a); };
}

}  // namespace ergon::engine::cli
