// `ergon tasks` and `ergon doctor`: what this machine offers.
#include <CLI/CLI.hpp>

#include "engine/cli/subcommand.h"
#include "engine/commands.h"
#include "engine/doctor.h"

namespace ergon::engine::cli {

Runner DeclareTasks(CLI::App& sub, Common& c) {
  sub.add_flag("--json", c.json, "print one JSON array");
  c.AddTasks(&sub);
  return [&c] { return CmdTasks(c.tasks_dirs, c.json); };
}

Runner DeclareDoctor(CLI::App&, Common&) {
  return [] { return Doctor(); };
}

}  // namespace ergon::engine::cli
