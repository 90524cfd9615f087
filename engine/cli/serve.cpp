// `ergon serve` (the dashboard) and `ergon eval-job` (what a cluster job runs).
#include <memory>

#include <CLI/CLI.hpp>

#include "engine/cli/subcommand.h"
#include "engine/commands.h"

namespace ergon::engine::cli {

Runner DeclareServe(CLI::App& sub, Common&) {
  auto a = std::make_shared<ServeArgs>();
  sub.add_option("--db", a->db, "archive file (default ergon.db)");
  sub.add_option("--host", a->host, "address to listen on (default 127.0.0.1; any other is reachable by others)");
  sub.add_option("--port", a->port, "port (default 8484; 0 picks a free one and prints it)")
      ->check(CLI::Range(0, 65535));
  AddTasksOption(sub, a->tasks_dirs);
  return [a] { return CmdServe(*a); };
}

Runner DeclareEvalJob(CLI::App& sub, Common&) {
  auto dir = std::make_shared<std::string>();
  sub.add_option("dir", *dir, "the evaluation's spool folder")->required();
  return [dir] { return CmdEvalJob(*dir); };
}

}  // namespace ergon::engine::cli
