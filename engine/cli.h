// The `ergon` command line. Main() parses argv, dispatches, and returns the
// process exit code: 0 ok, 1 the work failed, 2 usage error.
#pragma once

namespace ergon::engine {

int Main(int argc, char** argv);

}  // namespace ergon::engine
