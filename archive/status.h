// The closed sets the archive stores as text: a candidate's status and a
// run's. Each has one conversion each way; the stored words are the file
// format (and the JSON's), so they never change.
#pragma once

#include <optional>
#include <string_view>

namespace ergon::archive {

enum class CandidateStatus {
  kEvaluated,  // measured; a new best's verdict held, or it was no new best
  kPending,    // a new best awaiting its fresh-suite verdict: never reported as best
  kOverfit,    // passed on dev, failed on a fresh suite
  kFailed,     // did not run (compile, crash, timeout, bad output)
};

// "evaluated" | "pending" | "overfit" | "failed".
const char* StatusName(CandidateStatus s);
std::optional<CandidateStatus> ParseCandidateStatus(std::string_view text);
// The words as a list, for messages and --help: "evaluated | pending | ...".
const char* CandidateStatusNames();

enum class RunStatus {
  kRunning,
  kDone,     // its budget reached
  kStopped,  // Ctrl-C, STOP, the deadline, or found dead: --resume continues it
  kFailed,   // a fatal error (or its set-up failed)
};

// "running" | "done" | "stopped" | "failed".
const char* StatusName(RunStatus s);
std::optional<RunStatus> ParseRunStatus(std::string_view text);

}  // namespace ergon::archive
