// The run's digest of what helped and what hurt, rebuilt from the archive
// every --meta-every new candidates and carried in later prompts, so a model
// learns from the whole search, not only from the few inspirations it sees.
// Built by ergon from the archive (no model call, no spend).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "archive/archive.h"

namespace ergon::engine {

// "Of the last 40 children: 12 beat their parent, 20 did worse, 8 failed.
//  Changes that helped most: ... Changes that hurt most: ... Proposals that
//  never became candidates: 9 edit/no_match, ..." Empty with no children.
// `metric` names what the fitness minimises, for the percentages.
std::string MetaSummary(const std::vector<archive::ChildOutcome>& children,
                        const std::map<std::string, std::int64_t>& failure_stages, const std::string& metric);

}  // namespace ergon::engine
