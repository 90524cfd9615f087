// The char_lm task: next-character prediction, predict before observe.
//
// Per instance the harness draws a split of the corpus by the suite's key,
// writes train.txt into a fresh working directory, and runs the learner (C++
// or CUDA) in the sandbox with a CharReferee on its stdin and stdout. The
// corpus is masked inside the sandbox; the validation text reaches the
// learner only one byte at a time, after its prediction. A learner that
// stalls is cut off at the time limit and scored on what it predicted (its
// energy is then unknown under the cachemodel, which loses a killed process's
// counts, and it cannot rank).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "evaluators/learning/cachegrind_meter.h"
#include "evaluators/learning/energy_profile.h"
#include "evaluators/learning/text_corpus.h"
#include "sandbox/sandbox.h"

namespace ergon::evaluators {

struct CharLmRequest {
  std::string source;
  bool cuda = false;
  std::string meter = "cachemodel";  // cachemodel | nvml | wall
  std::string suite = "dev";         // dev | fresh
  int instances = 1;
  double timeout_s = 300;            // wall and CPU per instance
  std::size_t train_bytes = 300000;
  std::size_t validation_chars = 20000;
  std::string corpus_dir = learning::kFortunesDir;
};

struct CharLmInstance {
  double accuracy = 0;
  std::size_t predicted = 0, right = 0, surplus = 0, validation_chars = 0, train_bytes = 0;
  bool cut_off = false;  // stalled past the time limit
  double wall_s = 0, cpu_s = 0;
  std::optional<double> energy_j;
  learning::EnergyBreakdown components;
  learning::EnergyProfile profile;
  learning::CacheCounts counts;
};

struct CharLmReport {
  bool ran = false;
  std::string status = "ok", stage;  // stage: corpus | compile | run | meter
  double accuracy = 0;               // mean over instances
  std::optional<double> energy_j;    // mean; none under the wall meter or when cut off
  double wall_s = 0, cpu_s = 0;
  learning::EnergyBreakdown components;
  learning::EnergyProfile profile;
  learning::CacheCounts counts;
  std::vector<CharLmInstance> per_instance;
  std::string meter, suite, feedback, isolation;
  double compile_s = 0;
};

CharLmReport EvaluateCharLm(const sandbox::Sandbox& sandbox, const CharLmRequest& request);

std::string CharLmReportJson(const CharLmReport& r);

// The corpus's fingerprint for the evaluator version ("none" when missing).
std::string CharLmCorpusDigest(const std::string& corpus_dir);

}  // namespace ergon::evaluators
