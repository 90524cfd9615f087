// The `ergon` subcommands, as plain functions over plain arguments (cli.cpp
// parses argv into these). Each returns the process exit code: 0 ok, 1 the
// work failed, 2 usage error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>


namespace ergon::engine {

int CmdTasks(const std::vector<std::string>& tasks_dirs, bool json);

struct EvalArgs {
  std::string task, file, meter, suite = "dev";
  std::size_t instances = 0;
  double timeout_s = 0;  // 0 = the task's
  std::string db;  // record the evaluation in this archive when set
  std::vector<std::string> tasks_dirs;
};
int CmdEval(const EvalArgs& args, bool json);

struct ArchiveArgs {
  std::string db = "ergon.db";
  bool json = false;
  std::optional<std::int64_t> run;
  std::string status, task, by = "fitness", text, out_dir;
  int limit = 20;
  std::int64_t id = 0, other = 0;
  bool full = false;  // show: the whole source
  std::vector<std::string> tasks_dirs;
};
// sub: list | top | show | search | lineage | diff | pareto | runs | ledger | export | attempts
int CmdArchive(const std::string& sub, const ArchiveArgs& args);

struct ReplayArgs {
  std::string db = "ergon.db";
  std::int64_t id = 0;
  std::string meter, emit_dir;
  double timeout_s = 0;  // 0 = the task's
  bool json = false;
  std::vector<std::string> tasks_dirs;
};
int CmdReplay(const ReplayArgs& args);

struct ServeArgs {
  std::string db = "ergon.db", host = "127.0.0.1";
  int port = 8484;  // 0: any free port (printed)
  std::vector<std::string> tasks_dirs;
};
// Blocks until Ctrl-C or SIGTERM.
int CmdServe(const ServeArgs& args);

// What a cluster job runs: measure DIR/request.json, write DIR/result.json.
int CmdEvalJob(const std::string& dir);

}  // namespace ergon::engine
