// EnergyProfile: where a learner's joules went, by function and by line of
// the candidate's own source, read from cachegrind's per-line counts and
// priced with the same EnergyModel as the totals. The prompt shows a model
// its parent's hot spots from this; `archive show` prints it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <tl/expected.hpp>

#include "evaluators/learning/cachegrind_meter.h"

namespace ergon::evaluators::learning {

struct EnergyProfile {
  std::map<std::string, EnergyBreakdown> by_function;  // every file's code, by enclosing function
  std::map<int, EnergyBreakdown> by_line;              // lines of the candidate's own file
  double total_j = 0;                                  // everything cachegrind counted

  // Adds one of n instances' profiles to a mean (as EnergyBreakdown::AddMean).
  void AddMean(const EnergyProfile& o, double n);
  // JSON text: the top `n` functions and lines, each with its joules, its
  // share of the total and its components:
  //   {"total_j": T, "functions": [{"name", "j", "share", "instructions_j",
  //    "l1_j", "ll_j", "dram_j"}...], "lines": [{"line", ...}...]}
  std::string TopJson(std::size_t n) const;
};

// Reads every cachegrind output (cg.*) in out_dir. A file whose name ends in
// `own_file` (candidate.cpp) is the candidate's: its lines are kept.
tl::expected<EnergyProfile, std::string> ReadEnergyProfile(const std::string& out_dir, const EnergyModel& model,
                                                           const std::string& own_file);

}  // namespace ergon::evaluators::learning
