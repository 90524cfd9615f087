// Applying an agent's proposal to a parent genome.
//
// A proposal is free text from an LLM. It holds either SEARCH/REPLACE blocks
//
//   <<<<<<< SEARCH
//   old lines
//   =======
//   new lines
//   >>>>>>> REPLACE
//
// (any prose or code fences around them are ignored), or a whole new file in
// a fenced code block (the longest fence wins). Blocks apply in order, each to
// the result of the ones before: exact line match first, then one try that
// ignores whitespace differences. A block that still does not match is an
// error naming the closest region of the text it was applied to.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "genome/genome.h"

namespace ergon::genome {

struct SearchReplace {
  std::string search;    // LF line ends, ends with '\n' unless empty
  std::string replace;
  int proposal_line = 0; // 1-based line of the SEARCH marker in the proposal
};

struct Proposal {
  std::vector<SearchReplace> edits;       // non-empty, or
  std::optional<std::string> whole_file;  // set
};

enum class EditErrorKind {
  kNoEdit,          // neither blocks nor a fenced file in the text
  kMalformed,       // a SEARCH block without its divider or REPLACE marker
  kNoMatch,         // SEARCH text not found, even ignoring whitespace
  kAmbiguous,       // SEARCH text found more than once
  kOutsideBlocks,   // the result changes text outside the evolve blocks
  kWholeFileRefused,// whole-file proposal where the task forbids it
  kNoChange,        // the result equals the parent
  kInvalidResult,   // the result's markers or knobs do not parse
};

const char* EditErrorName(EditErrorKind kind);

struct EditError {
  EditErrorKind kind;
  std::string message;    // a sentence to show the agent
  int block = -1;         // 0-based index of the failing edit, when one failed
  // For kNoMatch: the region that came closest (1-based, inclusive).
  int closest_first_line = 0, closest_last_line = 0;
  double similarity = 0;  // 0..1
};

struct EditPolicy {
  // The learner tasks let agents rewrite everything; then evolve blocks do
  // not restrict edits. Otherwise text outside blocks is frozen.
  bool allow_whole_file = false;
};

// Extracts blocks or a whole file from LLM text.
tl::expected<Proposal, EditError> ParseProposal(const std::string& text);

// Parses and applies. The result is a valid Genome different from the parent.
tl::expected<Genome, EditError> ApplyProposal(const Genome& parent, const std::string& proposal_text,
                                              const EditPolicy& policy = {});
tl::expected<Genome, EditError> ApplyProposal(const Genome& parent, const Proposal& proposal,
                                              const EditPolicy& policy = {});

}  // namespace ergon::genome
