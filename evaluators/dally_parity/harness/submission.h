// What the Sutro group asks of a dally_parity submission: the IR, the
// generator, and a report in the form of shared/conformance/dally/reports
// (cost, recovery on the dev suite and on an audit of keyed suites, opcode
// counts, the IR's SHA-256, the method, the lineage). Every number in the
// report is computed here, from the IR the generator prints.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "sandbox/sandbox.h"

namespace ergon::evaluators {

struct DallySubmissionRequest {
  std::string generator;         // the candidate's C++ source
  std::string generator_file;    // its name in the kit (e.g. candidate.cpp)
  std::string suites_dir;        // evaluators/dally_parity/suites
  std::string title;             // "ergon candidate 17"
  std::string method;            // the candidate's intent, in words
  std::vector<std::string> lineage;  // one line per ancestor, newest first
  std::string date;              // YYYY-MM-DD
  std::size_t audit_instances = 2048;
  double band = 1.0;             // the task's recovery gate (a leaderboard band)
};

// file name -> content: program.ir and REPORT.md.
tl::expected<std::map<std::string, std::string>, std::string> DallySubmission(const sandbox::Sandbox& sandbox,
                                                                             const DallySubmissionRequest& request);

}  // namespace ergon::evaluators
