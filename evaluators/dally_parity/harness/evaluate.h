// The dally_parity task: a candidate is a C++ generator that prints a MASK32
// IR program. It is compiled and run in the sandbox (it never sees an
// instance); the trusted scorer then costs and simulates what it printed.
#pragma once

#include <cstdint>
#include <string>

#include <tl/expected.hpp>

#include "evaluators/dally_parity/harness/generator.h"
#include "sandbox/sandbox.h"

namespace ergon::evaluators {

struct DallyEvalRequest {
  std::string source;            // the generator's C++ text
  std::string suite = "dev";     // dev | fresh | KEY
  std::size_t instances = 0;     // for generated suites (0 = 2,048)
  std::string suites_dir;        // evaluators/dally_parity/suites
  double generator_wall_s = 120; // limits for the generator run
  double generator_cpu_s = 60;
  // What earlier runs of the same source printed (may be null).
  PrintedPrograms* memo = nullptr;
};

struct DallyEvalReport {
  bool ran = false;           // compiled, ran and printed a valid IR
  std::string status = "ok";  // or what failed, in words
  std::string stage;          // compile | run | ir | score | "" when ok
  std::uint64_t cost = 0;
  double recovery = 0;
  std::size_t correct = 0, instances = 0, lines = 0;
  double compile_s = 0, wall_s = 0, cpu_s = 0, score_s = 0;
  bool remembered = false;    // the generator's output from an earlier run of the same source
  std::string feedback;       // compiler diagnostics or generator stderr (capped)
  std::string isolation;
  std::string suite;
  std::string profile;        // where the cost goes: dally::IrCostProfile::Json
};

DallyEvalReport EvaluateDallyParity(const sandbox::Sandbox& sandbox, const DallyEvalRequest& request);

// What a generator prints (RunGenerator with 120 s wall, 60 s CPU), or why it
// printed nothing. For the offline agent's transformation and the submission
// kit; evaluations use EvaluateDallyParity.
tl::expected<std::string, std::string> RunDallyGenerator(const sandbox::Sandbox& sandbox, const std::string& source,
                                                         PrintedPrograms* memo = nullptr);

std::string DallyReportJson(const DallyEvalReport& r);

}  // namespace ergon::evaluators
