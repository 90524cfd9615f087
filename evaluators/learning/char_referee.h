// CharReferee: the trusted end of char_lm's predict-before-observe protocol.
//
// The learner reads "N\n", then N times writes one byte (its prediction of
// the next validation character) and reads the true byte. The referee takes
// each byte the learner writes as the next prediction and only then reveals
// the character it predicted, so a learner can never see a character before
// it has committed to a guess for it. Bytes past the N-th are counted, never
// scored.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "sandbox/sandbox.h"

namespace ergon::evaluators::learning {

class CharReferee : public sandbox::StdioPeer {
 public:
  explicit CharReferee(std::string text) : text_(std::move(text)) {}

  std::string Opening() override { return std::to_string(text_.size()) + "\n"; }
  std::string Answer(std::string_view bytes) override;
  bool Finished() const override { return next_ >= text_.size(); }

  std::size_t size() const { return text_.size(); }
  std::size_t predicted() const { return next_; }  // predictions received
  std::size_t right() const { return right_; }
  std::size_t surplus() const { return surplus_; }  // bytes after the N-th
  // Right predictions over all N characters: what was never predicted is wrong.
  double accuracy() const { return text_.empty() ? 0 : static_cast<double>(right_) / static_cast<double>(text_.size()); }

 private:
  std::string text_;
  std::size_t next_ = 0, right_ = 0, surplus_ = 0;
};

}  // namespace ergon::evaluators::learning
