// Re-introduced code: lines a proposal adds back after an ancestor's change
// had deleted them. A trace study of four evolution frameworks (arXiv
// 2605.20086) found about 30% of the lines added during a search are such;
// ergon counts them per candidate and tells the agent.
//
// Lines compare with their surrounding spaces trimmed; blank lines and lines
// of punctuation alone (a brace, `};`) never count.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ergon::engine {

// One change in a lineage: the candidate `id` made from its parent's source.
struct LineageStep {
  std::int64_t id = 0;
  std::string before, after;     // the parent's source, the candidate's
  std::optional<double> metric;  // how the candidate scored (the task's minimised metric)
};

struct Reintroduction {
  int added = 0;  // significant lines the child adds to its parent
  int lines = 0;  // of those, lines a step of the lineage had deleted
  // The newest step that deleted one of them (0: none), and its score.
  std::int64_t by = 0;
  std::optional<double> by_metric;
};

// `lineage`: the parent's own change first, then older ones.
Reintroduction CountReintroduced(const std::string& parent, const std::string& child,
                                 const std::vector<LineageStep>& lineage);

}  // namespace ergon::engine
