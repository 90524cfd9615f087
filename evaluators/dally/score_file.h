// `ergon score FILE.ir`: compile, cost and simulate one IR file on a suite.
#pragma once

#include <cstdint>
#include <string>

namespace ergon::evaluators::dally {

struct ScoreRequest {
  std::string path;
  std::string tier = "mask32";   // small | medium | mask32
  std::string suite = "fresh";   // fresh | dev | seeds (small/medium) | any other key (mask32)
  std::size_t instances = 0;     // 0 = the tier's default
  std::string suites_dir;        // where the dev suite files live
};

struct ScoreReport {
  bool ran = false;          // false: invalid IR or unreadable file (exit 1)
  std::string status = "ok"; // "ok" or the error, with its line
  std::string tier, suite;
  std::uint64_t cost = 0;
  double metric = 0;         // recovery (mask32) or accuracy (small/medium)
  std::size_t correct = 0;   // instances fully right
  std::size_t instances = 0, lines = 0;
  double parse_s = 0, simulate_s = 0;
};

ScoreReport ScoreFile(const ScoreRequest& request);
std::string ReportJson(const ScoreReport& r);
std::string ReportText(const ScoreReport& r);

}  // namespace ergon::evaluators::dally
