// What became of an attempt, in the one vocabulary every view uses: the run's
// progress and summary lines, `archive runs`, the dashboard and the JSON all
// count and name outcomes through this file.
//
// An attempt either left a candidate (it passed the gate, failed it, or did
// not run: it did not build, crashed, or answered malformed) or it did not
// (invalid: the agent's reply or edit was unusable; a duplicate; not novel; cut
// off by a stop; or lost to the machine, not the candidate's doing). The
// baseline is no run's attempt.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "archive/status.h"

namespace ergon::archive {

enum class Outcome { kPassedGate, kFailedGate, kDidNotRun, kInvalid, kDuplicate, kNotNovel, kCutOff, kLost };
inline constexpr std::size_t kOutcomes = 8;

// The JSON key ("passed_gate", "did_not_run", ...) and the words ("passed the
// gate", "did not run", ...).
const char* OutcomeKey(Outcome o);
const char* OutcomeWords(Outcome o);

// The outcome of a failed attempt recorded with `stage` (archive::Failure).
Outcome AttemptOutcome(std::string_view stage);

// The outcome of a recorded candidate: its status and whether its best
// evaluation passed the gate.
Outcome CandidateOutcome(CandidateStatus status, bool gate_passed);

struct OutcomeCounts {
  std::array<std::int64_t, kOutcomes> n{};

  std::int64_t& operator[](Outcome o) { return n[static_cast<std::size_t>(o)]; }
  std::int64_t operator[](Outcome o) const { return n[static_cast<std::size_t>(o)]; }
  std::int64_t candidates() const;         // passed + failed the gate + did not run
  std::int64_t without_candidate() const;  // the rest
  OutcomeCounts& operator+=(const OutcomeCounts& o);

  // "81 candidates (75 passed the gate, 4 failed the gate, 2 did not run);
  // 66 attempts left none (17 invalid, 49 duplicates, 0 not novel, 0 cut
  // off, 0 lost)".
  std::string Line() const;
};

}  // namespace ergon::archive
