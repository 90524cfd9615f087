// The command line: argv parsed against the table of subcommands
// (engine/cli/subcommand.h), and the one given run.
#include "engine/cli.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "engine/cli/subcommand.h"

#ifndef ERGON_VERSION
#define ERGON_VERSION "0.0.0"
#endif

namespace ergon::engine {
namespace {

// `ergon run --config FILE`: CLI11 reads config files at the top level, so
// the option is the app's, and argv is reordered to put it there.
std::vector<std::string> ConfigFirst(std::vector<std::string> args) {
  if (args.empty() || args[0] != "run") return args;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const bool split = args[i] == "--config" && i + 1 < args.size();
    if (!split && args[i].rfind("--config=", 0) != 0) continue;
    const auto at = args.begin() + static_cast<std::ptrdiff_t>(i);
    std::vector<std::string> moved(at, at + (split ? 2 : 1));
    args.erase(at, at + (split ? 2 : 1));
    args.insert(args.begin(), moved.begin(), moved.end());
    break;
  }
  return args;
}

// A parse error, said the way each command says it.
int ParseFailed(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  std::string msg = e.what();
  if (const auto at = msg.find("INI was not able to parse "); at != std::string::npos)
    msg = "the run file has a key `ergon run` does not know: " + msg.substr(at + 26) +
          " (keys are run's flags without their dashes, under [run])";
  auto* sub = app.get_subcommands().empty() ? nullptr : app.get_subcommands().front();
  if (!sub && argc > 1 && argv[1][0] != '-') msg = fmt::format("unknown command '{}'", argv[1]);
  if (sub)
    fmt::print(stderr, "ergon {}: {}\nRun 'ergon {} --help' for its options.\n", sub->get_name(), msg,
               sub->get_name());
  else
    fmt::print(stderr, "ergon: {}\nRun 'ergon --help' for the commands.\n", msg);
  return cli::kUsage;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"ergon: agent-driven search for energy-efficient learning algorithms", "ergon"};
  app.set_version_flag("--version", std::string("ergon ") + ERGON_VERSION);
  app.require_subcommand(1);
  app.set_config("--config", "", "a run file for `ergon run` (see `ergon run --help`)");
  app.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt key is an error, not ignored
  app.fallthrough(false);

  cli::Common common;
  common.program = argc > 0 ? argv[0] : "ergon";
  std::vector<std::pair<CLI::App*, cli::Runner>> commands;
  for (const auto& s : cli::Subcommands()) {
    CLI::App* sub = app.add_subcommand(s.name, s.summary);
    commands.emplace_back(sub, s.declare(*sub, common));
  }

  std::vector<std::string> args = ConfigFirst(std::vector<std::string>(argv + 1, argv + argc));
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
  try {
    app.parse(args);
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
    return ParseFailed(app, e, argc, argv);
  }
  for (auto& [sub, run] : commands)
    if (sub->parsed()) return run();
  return cli::kUsage;
}

}  // namespace ergon::engine
