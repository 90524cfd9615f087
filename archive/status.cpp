#include "archive/status.h"

namespace ergon::archive {

const char* StatusName(CandidateStatus s) {
  switch (s) {
    case CandidateStatus::kEvaluated: return "evaluated";
    case CandidateStatus::kPending: return "pending";
    case CandidateStatus::kOverfit: return "overfit";
    case CandidateStatus::kFailed: return "failed";
  }
  return "evaluated";
}

std::optional<CandidateStatus> ParseCandidateStatus(std::string_view t) {
  for (auto s : {CandidateStatus::kEvaluated, CandidateStatus::kPending, CandidateStatus::kOverfit,
                 CandidateStatus::kFailed})
    if (t == StatusName(s)) return s;
  return std::nullopt;
}

const char* CandidateStatusNames() { return "evaluated | pending | overfit | failed"; }

const char* StatusName(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning: return "running";
    case RunStatus::kDone: return "done";
    case RunStatus::kStopped: return "stopped";
    case RunStatus::kFailed: return "failed";
  }
  return "running";
}

std::optional<RunStatus> ParseRunStatus(std::string_view t) {
  for (auto s : {RunStatus::kRunning, RunStatus::kDone, RunStatus::kStopped, RunStatus::kFailed})
    if (t == StatusName(s)) return s;
  return std::nullopt;
}

}  // namespace ergon::archive
