// `ergon doctor`: what this machine can do for ergon, checked for real.
#pragma once

namespace ergon::engine {

// Prints the sandbox isolation in force, the compilers found and the meters
// available. Returns 0 when candidates can be run here, 1 otherwise.
int Doctor();

}  // namespace ergon::engine
