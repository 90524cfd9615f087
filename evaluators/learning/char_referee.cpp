#include "evaluators/learning/char_referee.h"

namespace ergon::evaluators::learning {

std::string CharReferee::Answer(std::string_view bytes) {
  std::string reveal;
  for (char predicted : bytes) {
    if (next_ >= text_.size()) {
      ++surplus_;
      continue;
    }
    const char truth = text_[next_++];
    right_ += predicted == truth;
    reveal += truth;
  }
  return reveal;
}

}  // namespace ergon::evaluators::learning
