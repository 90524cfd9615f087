// The dashboard's HTTP server: the body of the ergon-serve executable.
#pragma once

#include "engine/commands.h"

namespace ergon::engine {

// Serves until Ctrl-C or SIGTERM; the exit code.
int ServeArchive(const ServeArgs& args);

}  // namespace ergon::engine
