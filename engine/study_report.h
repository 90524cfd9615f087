// What a study found, read back from the archive: each arm's runs as
// anytime curves (the best so far after each candidate, with the tokens and
// dollars spent by then), and per arm the final best over seeds, the budget
// to reach a target, and rank tests between arms.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "archive/archive.h"
#include "engine/rank_test.h"

namespace ergon::engine {

// One run of a study: an arm at one seed.
struct StudyRun {
  std::int64_t run_id = 0;
  std::uint64_t seed = 0;
  archive::RunStatus status = archive::RunStatus::kRunning;
  // After candidate k (index k-1): the best metric that passed the gate so
  // far (the baseline's to start), and the tokens and dollars spent so far.
  std::vector<double> best;
  std::vector<std::int64_t> tokens;
  std::vector<double> dollars;
  double Final(double baseline) const { return best.empty() ? baseline : best.back(); }
};

struct Quartiles {
  double q1 = 0, median = 0, q3 = 0;
};
Quartiles QuartilesOf(std::vector<double> v);  // linear interpolation; zeros when empty

struct StudyArm {
  std::string name;
  std::vector<StudyRun> runs;  // by seed
  Quartiles final;             // the runs' final bests
  // Runs whose best reached the target, and the medians of what each
  // needed to get there (candidates, tokens, dollars).
  int reached = 0;
  std::optional<double> to_target_candidates, to_target_tokens, to_target_dollars;
  std::vector<Quartiles> curve;  // after k candidates, k = 1..longest run (a shorter run keeps its last)
};

struct StudyComparison {
  std::string a, b;
  RankTest test;  // of a's final bests against b's
  bool a_lower = false;  // a's median final best is below b's
};

struct StudyReport {
  std::string name, task, metric;  // metric: minimised
  double baseline = 0;
  std::optional<double> target;
  std::vector<StudyArm> arms;
  std::vector<StudyComparison> comparisons;  // every pair of arms
};

// The study `name` on `task`: runs whose settings name it (`ergon run
// --study`), arms in the order given (an arm with no runs yet is empty).
tl::expected<StudyReport, std::string> ReadStudy(archive::Archive& archive, const std::string& name,
                                                 const std::string& task, const std::string& metric,
                                                 const std::vector<std::string>& arms, std::optional<double> target);

std::string StudyText(const StudyReport& r);
std::string StudyJson(const StudyReport& r);

}  // namespace ergon::engine
