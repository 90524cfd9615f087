#include "archive/outcome.h"

#include <fmt/core.h>

namespace ergon::archive {

const char* OutcomeKey(Outcome o) {
  switch (o) {
    case Outcome::kPassedGate: return "passed_gate";
    case Outcome::kFailedGate: return "failed_gate";
    case Outcome::kDidNotRun: return "did_not_run";
    case Outcome::kInvalid: return "invalid";
    case Outcome::kDuplicate: return "duplicate";
    case Outcome::kNotNovel: return "not_novel";
    case Outcome::kCutOff: return "cut_off";
    case Outcome::kLost: return "lost";
  }
  return "?";
}

const char* OutcomeWords(Outcome o) {
  switch (o) {
    case Outcome::kPassedGate: return "passed the gate";
    case Outcome::kFailedGate: return "failed the gate";
    case Outcome::kDidNotRun: return "did not run";
    case Outcome::kInvalid: return "invalid";
    case Outcome::kDuplicate: return "duplicates";
    case Outcome::kNotNovel: return "not novel";
    case Outcome::kCutOff: return "cut off";
    case Outcome::kLost: return "lost";
  }
  return "?";
}

Outcome AttemptOutcome(std::string_view stage) {
  if (stage == "duplicate") return Outcome::kDuplicate;
  if (stage == "novelty") return Outcome::kNotNovel;
  if (stage == "cut_off") return Outcome::kCutOff;
  // The cluster or the task's own harness failed: not the candidate's doing.
  if (stage == "infrastructure" || stage == "harness") return Outcome::kLost;
  return Outcome::kInvalid;  // agent, parent, edit/...
}

Outcome CandidateOutcome(CandidateStatus status, bool gate_passed) {
  if (status == CandidateStatus::kFailed) return Outcome::kDidNotRun;
  return gate_passed ? Outcome::kPassedGate : Outcome::kFailedGate;
}

std::int64_t OutcomeCounts::candidates() const {
  return (*this)[Outcome::kPassedGate] + (*this)[Outcome::kFailedGate] + (*this)[Outcome::kDidNotRun];
}

std::int64_t OutcomeCounts::without_candidate() const {
  std::int64_t all = 0;
  for (std::int64_t x : n) all += x;
  return all - candidates();
}

OutcomeCounts& OutcomeCounts::operator+=(const OutcomeCounts& o) {
  for (std::size_t i = 0; i < kOutcomes; ++i) n[i] += o.n[i];
  return *this;
}

std::string OutcomeCounts::Line() const {
  auto part = [&](Outcome o) { return fmt::format("{} {}", (*this)[o], OutcomeWords(o)); };
  return fmt::format("{} candidates ({}, {}, {}); {} attempts left none ({}, {}, {}, {}, {})", candidates(),
                     part(Outcome::kPassedGate), part(Outcome::kFailedGate), part(Outcome::kDidNotRun),
                     without_candidate(), part(Outcome::kInvalid), part(Outcome::kDuplicate),
                     part(Outcome::kNotNovel), part(Outcome::kCutOff), part(Outcome::kLost));
}

}  // namespace ergon::archive
