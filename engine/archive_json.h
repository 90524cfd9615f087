// The JSON objects of `ergon archive ... --json`, shared with `ergon serve`'s
// /api/ so that a script and the dashboard see the same fields.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "archive/archive.h"
#include "evaluators/task.h"

namespace ergon::engine {

// An evaluation's fields and metrics, added to `j`.
void PutMetrics(nlohmann::json& j, const archive::Evaluation& e);
// A candidate row (no source) with its best evaluation's metrics.
nlohmann::json RowJson(const archive::Row& r);
nlohmann::json AttemptJson(const archive::AttemptRow& t);
nlohmann::json RunJson(const archive::Run& r);
// {"passed_gate": n, ..., "lost": n} in outcome.h's keys.
nlohmann::json OutcomesJson(const archive::OutcomeCounts& c);
nlohmann::json LedgerSummaryJson(const archive::LedgerSummary& l);
nlohmann::json LedgerEntryJson(const archive::LedgerEntry& l);
// `archive lineage --json`: newest first, each with its change of the main
// metric against its parent.
nlohmann::json LineageJson(const std::vector<archive::Row>& lineage, const evaluators::TaskSpec& spec);
// `archive show --json`: the row, its source and edit, every evaluation with
// its feedback, the ancestors' ids, and where it was measured ("dev: slurm
// job 12 on node7"; empty when in the engine's own process).
nlohmann::json ShowJson(const archive::Row& row, const std::vector<archive::Evaluation>& evals,
                        const std::vector<archive::Row>& lineage, const std::vector<std::string>& measured = {});

// `archive search --json`: candidates, then failed attempts, each with its "kind".
nlohmann::json SearchJson(const std::vector<archive::Row>& rows, const std::vector<archive::AttemptRow>& attempts);

// Tasks as the registry knows them; a task no folder describes any more (an
// external task whose --tasks was not given) still has a spec, by its metrics.
class Specs {
 public:
  // `dirs` (--tasks) first, then, when an archive is given, the folders its
  // runs' tasks came from (task_origin.h), then ergon's own.
  explicit Specs(const std::vector<std::string>& dirs, archive::Archive* archive = nullptr);
  const evaluators::TaskSpec& For(const std::string& task);
  const evaluators::TaskRegistry& registry() const { return registry_; }

 private:
  evaluators::TaskRegistry registry_;
  std::map<std::string, evaluators::TaskSpec> fallback_;
};

}  // namespace ergon::engine
