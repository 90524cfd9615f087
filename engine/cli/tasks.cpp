// `ergon tasks` and `ergon doctor`: what this machine offers.
#include <memory>

#include <CLI/CLI.hpp>

#include "engine/cli/subcommand.h"
#include "engine/commands.h"
#include "engine/doctor.h"

namespace ergon::engine::cli {

Runner DeclareTasks(CLI::App& sub, Common& c) {
  auto dirs = std::make_shared<std::vector<std::string>>();
  sub.add_flag("--json", c.json, "print one JSON array");
  AddTasksOption(sub, *dirs);
  return [dirs, &c] { return CmdTasks(*dirs, c.json); };
}

Runner DeclareDoctor(CLI::App&, Common&) {
  return [] { return Doctor(); };
}

}  // namespace ergon::engine::cli
