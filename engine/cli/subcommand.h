// The `ergon` command line as a table. Each subcommand is a short function in
// a file of its own: it declares its flags on its own CLI::App and hands back
// what runs it once argv is parsed. engine/cli.cpp parses argv against the
// table and runs the one given. Task families contribute their own commands
// the same way (evaluators/task_commands.h: `score`, `optimize-ir`).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace ergon::engine::cli {

// Process exit codes: 0 ok, 1 the work failed, 2 usage error.
constexpr int kUsage = 2;

// What several subcommands share.
struct Common {
  bool json = false;
  std::string program;  // argv[0]
};

// Adds --tasks DIR (repeatable) to `sub`, every subcommand that takes a
// task, its values going into `dirs`.
void AddTasksOption(CLI::App& sub, std::vector<std::string>& dirs);

// What runs a parsed subcommand; returns the exit code.
using Runner = std::function<int()>;

struct Subcommand {
  std::string name, summary;
  // Declares the flags on `sub` (already named and described).
  std::function<Runner(CLI::App& sub, Common& common)> declare;
};

// Every subcommand, in --help's order: ergon's own, then the task families'.
std::vector<Subcommand> Subcommands();

// One per file in this folder.
Runner DeclareTasks(CLI::App& sub, Common& common);
Runner DeclareDoctor(CLI::App& sub, Common& common);
Runner DeclareRun(CLI::App& sub, Common& common);
Runner DeclareStudy(CLI::App& sub, Common& common);
Runner DeclareEval(CLI::App& sub, Common& common);
Runner DeclareArchive(CLI::App& sub, Common& common);
Runner DeclareReplay(CLI::App& sub, Common& common);
Runner DeclareServe(CLI::App& sub, Common& common);
Runner DeclareEvalJob(CLI::App& sub, Common& common);

// "90s", "30m", "8h", "1.5h" or plain seconds.
std::optional<double> ParseDuration(const std::string& s);

}  // namespace ergon::engine::cli
