// Commands a task family adds to `ergon`: its own tools, under the names
// scripts use (the Dally family's `ergon score` and `ergon optimize-ir`).
// The CLI lists them after its own subcommands and knows none by name.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace CLI {
class App;
}

namespace ergon::evaluators {

struct TaskCommandContext {
  bool* json = nullptr;  // the CLI's --json
  // ergon's home folder (the task folders and the group's suites are under
  // it), or why it cannot be found.
  std::function<tl::expected<std::string, std::string>()> home;
};

struct TaskCommand {
  std::string name, summary;
  // Declares the flags on `sub`; returns what runs the parsed command (its
  // exit code: 0 ok, 1 the work failed, 2 usage).
  std::function<std::function<int()>(CLI::App& sub, const TaskCommandContext& context)> declare;
};

// Every built-in task family's commands.
std::vector<TaskCommand> TaskCommands();

}  // namespace ergon::evaluators
