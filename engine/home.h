// Where ergon's data lives (task folders, prompt templates).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace ergon::engine {

struct HomeSearch {
  std::string env_home;      // $ERGON_HOME, empty if unset
  std::string exe_path;      // /proc/self/exe
  std::string source_dir;    // the source tree this binary was built from
  std::string cwd;
};

// The first folder holding evaluators/: $ERGON_HOME (if set, it must hold
// it), <exe>/../share/ergon (installed), the build's source tree, the
// current directory, then the executable's parent folders (a build tree
// inside the source tree). The error lists every place tried.
tl::expected<std::string, std::string> FindHome(const HomeSearch& where);

// FindHome for this process.
tl::expected<std::string, std::string> FindHome();

}  // namespace ergon::engine
