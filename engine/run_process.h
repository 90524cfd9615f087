// Which process runs a run, and whether it still does: a run on a shared
// archive whose process was killed (or crashed) must not stay "running".
#pragma once

#include <string>

#include "archive/archive.h"

namespace ergon::engine {

// "HOST PID START" for this process (START: its start time in clock ticks
// since boot, from /proc, so that a reused pid is not mistaken for it).
std::string ThisProcess();

enum class ProcessState { kAlive, kGone, kUnknown };

// kUnknown for another host's process (or an empty or unreadable string):
// nobody here can tell.
ProcessState StateOf(const std::string& process);

// "pid 123 on HOST".
std::string DescribeProcess(const std::string& process);

// Why a run marked running is not: its process is gone. Empty when it may
// still be running.
std::string LostReason(const archive::Run& run);

// Every run marked running whose process is gone here is marked stopped,
// with why. The number closed, or the archive's error.
archive::Result<int> CloseLostRuns(archive::Archive& archive);

}  // namespace ergon::engine
