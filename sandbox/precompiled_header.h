// Precompiled standard headers for candidate compiles. Most of a learner's
// compile is parsing the standard headers it includes (sparse_parity's
// baseline: 0.95 of 1.31 s is -fsyntax-only), and every candidate of a task
// includes the same ones. A sandbox keeps one precompiled header per set of
// headers and flags, built in the sandbox on first use.
//
// A candidate gets one only for the system headers it includes itself, before
// anything else in the file: force-including them first then changes nothing,
// so a candidate never compiles here only because of it.
#pragma once

#include "base/mutex.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ergon::sandbox {

class Sandbox;
class ScratchDir;

// The <headers> `source` includes before any other code (blank lines and
// comments aside), in order; empty when something else comes first (a
// #define there could change what the headers mean).
std::vector<std::string> LeadingSystemIncludes(const std::string& source);

class PchCache {
 public:
  PchCache();
  ~PchCache();
  // The folder holding ergon_pch.h and ergon_pch.h.gch for `headers`,
  // compiled by `compiler` with `flags`; built on first use. Empty when it
  // cannot be built (the compile then goes on without it).
  std::string For(const Sandbox& sandbox, const std::string& compiler, const std::vector<std::string>& flags,
                  const std::vector<std::string>& headers);

 private:
  base::Mutex mu_;
  // key (compiler, flags, headers) -> its folder, or null when building failed
  std::map<std::string, std::shared_ptr<ScratchDir>> built_ GUARDED_BY(mu_);
};

}  // namespace ergon::sandbox
