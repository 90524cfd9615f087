// Unified diffs between two sources (for the archive and for prompts, where
// inspirations are shown as what changed rather than whole files).
#pragma once

#include <string>

namespace ergon::genome {

struct DiffOptions {
  int context = 3;                 // unchanged lines around each change
  std::string from_name = "a";     // shown as --- a
  std::string to_name = "b";       // shown as +++ b
};

// `diff -u` style text; empty when the two are equal line for line.
// Uses Myers' O(ND) algorithm, so small edits to big files stay cheap.
std::string UnifiedDiff(const std::string& from, const std::string& to, const DiffOptions& options = {});

}  // namespace ergon::genome
