// The dally scorer and optimiser as processes of their own: `ergon score`
// and `ergon optimize-ir`, run by a search for each candidate, so that a
// multi-megabyte program's parsing, simulation and layout never load the
// process that runs the search (nor take it down with them).
#pragma once

#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace ergon::evaluators::dally {

// The `ergon` binary beside the running program, when there is one (the
// running program is ergon itself); "" otherwise (a test binary), and then
// callers do the work in-process.
std::string ErgonBesideThisProgram();

struct ToolRun {
  bool exited = false;  // false: killed by a signal
  int status = -1;      // the exit status
  std::string out;      // stdout
  std::string err;      // the start of stderr
  std::string Describe() const;  // "exited with 1: ..." for messages
};

// Runs argv (argv[0] a path) to its end: stdout collected, stderr through
// the file `stderr_path`. Fails only when it cannot start.
tl::expected<ToolRun, std::string> RunTool(const std::vector<std::string>& argv, const std::string& stderr_path);

}  // namespace ergon::evaluators::dally
