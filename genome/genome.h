// genome: a candidate program as source text, with the parts an agent may
// change (evolve blocks) and the numbers the offline agent may turn (knobs).
//
//   // EVOLVE-BLOCK-START
//   ... agent-editable code ...
//   // EVOLVE-BLOCK-END
//
//   constexpr double kLr = 0.1;  // KNOB lr 0.1 range 0.001 1.0 log
//
// A KNOB comment declares `name value range lo hi` and optional flags `log`
// (mutate on a log scale; lo > 0), `int` (integer values) and `down` (lower
// values usually cost less: the offline agent tries them more often). The value must
// appear exactly once as a numeric literal in the code of the same line, or,
// when the comment stands alone on its line, in the next non-blank line: that
// literal is what WithKnob rewrites.
#pragma once

#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "base/result.h"

namespace ergon::genome {

using base::Result;

struct EvolveBlock {
  int start_line = 0;  // 1-based line of the START marker
  int end_line = 0;    // 1-based line of the END marker
};

struct Knob {
  std::string name;
  double value = 0;
  double lo = 0, hi = 0;
  bool log_scale = false;
  bool integer = false;
  bool prefer_lower = false;  // `down`
  int comment_line = 0;  // 1-based line of the KNOB comment
  int code_line = 0;     // 1-based line holding the literal
};

class Genome {
 public:
  // Parses markers and knobs. Errors name the line: "line 12: EVOLVE-BLOCK-END
  // without START". CRLF line ends are normalised to LF.
  static Result<Genome> Parse(std::string source);

  const std::string& source() const { return source_; }
  const std::vector<EvolveBlock>& blocks() const { return blocks_; }
  const std::vector<Knob>& knobs() const { return knobs_; }
  const Knob* FindKnob(const std::string& name) const;

  // The text outside evolve blocks, markers included, one entry per frozen
  // segment. Two genomes with equal frozen parts differ only inside blocks.
  std::vector<std::string> FrozenParts() const;

  // A copy with knob `name` set to `value` (clamped to nothing: out of range
  // is an error; integer knobs must get integral values).
  Result<Genome> WithKnob(const std::string& name, double value) const;

  // Hex SHA-256 of the normalised source (see ContentHash); computed once.
  const std::string& Hash() const;

 private:
  std::string source_;
  mutable std::string hash_;  // cache: sources are immutable once parsed
  std::vector<EvolveBlock> blocks_;
  std::vector<Knob> knobs_;
};

// A model that edits a knob's literal (`kRows = 1000` to `500`) rarely edits
// its KNOB comment too. For each KNOB whose value no longer stands in its code
// line, where that line now holds exactly one numeric literal, the comment
// takes that literal as its value (its range widened to hold it). Returns the
// source unchanged when there is nothing to follow.
std::string FollowKnobLiterals(const std::string& source);

// Normalises line ends and trailing whitespace, then SHA-256, as 64 hex
// digits. Sources that differ only in CRLF/LF, trailing blanks or trailing
// empty lines hash the same.
std::string ContentHash(const std::string& source);

// Formats a knob value as a C++ literal: integers without a point, doubles
// with one (so `3` never turns integer division on).
std::string FormatKnobValue(double value, bool integer);

}  // namespace ergon::genome
