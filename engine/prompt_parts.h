// The pieces of a proposal prompt that are more than a template variable:
// where the parent stands, what each inspiration's change did, what a failed
// attempt proposed. Pure functions of archive rows, so each is tested alone.
//
// The budget (kPromptBudget): a rendered prompt, system and user messages
// together, is at most 96,000 characters (about 24k tokens): the parent's
// source up to kParentSourceBudget, each inspiration's diff up to
// kInspirationDiffBudget (cut at a hunk, never mid-hunk), each failure up to
// kFailureBudget. Generated sources larger than kBigSource are never quoted.
#pragma once

#include <cstddef>
#include <map>
#include <vector>
#include <optional>
#include <string>

#include "archive/archive.h"
#include "evaluators/task_spec.h"

namespace ergon::engine {

constexpr std::size_t kPromptBudget = 96000;
constexpr std::size_t kParentSourceBudget = 60000;
constexpr std::size_t kInspirationDiffBudget = 2400;
constexpr std::size_t kFailureBudget = 900;

// A reference point for the parent: the baseline or the best so far.
struct Landmark {
  std::int64_t id = 0;
  double value = 0;  // of the task's minimised metric
};

// "energy_j is 0.42x the baseline's (candidate 1) and 3.1x the best so far
// (candidate 17, 0.14x the baseline)". Empty without the metric.
std::string Standing(const evaluators::TaskSpec& spec, const std::optional<archive::Evaluation>& parent,
                     std::int64_t parent_id, const std::optional<Landmark>& baseline,
                     const std::optional<Landmark>& best);

// A unified diff cut to whole hunks within `budget` characters, with a note
// of how many hunks and lines were left out.
std::string DiffWithinBudget(const std::string& from, const std::string& to, const std::string& from_name,
                             const std::string& to_name, std::size_t budget);

// One inspiration: its intent, what its change did to the metrics and to
// each energy component, and the hunks that matter.
std::string InspirationText(const evaluators::TaskSpec& spec, const archive::Row& child,
                            const std::optional<archive::Row>& parent, bool sources_too_big);

// One failed attempt: its stage, the harness's words, and what was proposed
// (the agent's stated intent and the start of its edit).
std::string FailureText(const archive::AttemptRow& a);

// Everything a proposal prompt is made of, gathered from the archive.
struct PromptInput {
  const evaluators::TaskSpec* spec = nullptr;
  std::string task_facts;       // Task::AgentFacts
  std::string knob_rule;        // empty when the parent has no knobs
  archive::Row parent;          // with its source (empty when too big to read)
  std::optional<Landmark> baseline, best;
  struct Inspiration {
    archive::Row child;
    std::optional<archive::Row> parent;
    bool too_big = false;
  };
  std::vector<Inspiration> inspirations;
  std::vector<archive::AttemptRow> failures;
  std::string meta;  // the run's digest of what helped (engine/meta_summary.h)
  // What the archive noted of the parent's making (its re-introduced code).
  std::string parent_note;
};

// The template variables of system.txt and mutate.txt, each within its
// budget. PromptVarNames() lists every name this fills (and repair.txt's
// "error").
std::map<std::string, std::string> PromptVars(const PromptInput& in);
const std::vector<std::string>& PromptVarNames();

// Cuts `s` to `n` characters, saying how much was left out.
std::string Cut(const std::string& s, std::size_t n);

}  // namespace ergon::engine
