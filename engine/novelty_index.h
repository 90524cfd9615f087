// NoveltyIndex: the task's candidates as normalised tokens, so a proposal
// that is a near-copy of one of them is refused before it is evaluated.
//
// A proposal is not novel when its token similarity (genome/similarity.h)
// to a candidate is at least the threshold. The default, 1.0, refuses
// exactly the sources that differ from a candidate only in comments,
// spacing and layout (the exact duplicates are already skipped by hash).
// A lower threshold (--novelty 0.99) refuses small real changes too, such
// as one constant in a long program: it trades exploration for evaluations.
// The newest kCompared candidates are compared in full; every candidate is
// compared by its token hash.
#pragma once

#include "base/mutex.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>


namespace ergon::engine {

class NoveltyIndex {
 public:
  static constexpr std::size_t kCompared = 256;

  explicit NoveltyIndex(double threshold) : threshold_(threshold) {}

  void Add(std::int64_t id, const std::string& source);
  struct Match {
    std::int64_t id = 0;
    double similarity = 0;
  };
  // The closest candidate at or above the threshold, if any. Thread-safe.
  std::optional<Match> NearCopy(const std::string& source) const;
  double threshold() const { return threshold_; }

 private:
  const double threshold_;
  mutable base::Mutex mu_;
  std::unordered_map<std::uint64_t, std::int64_t> by_hash_ GUARDED_BY(mu_);
  using Tokens = std::shared_ptr<const std::vector<std::uint64_t>>;  // shared: a check copies pointers, not tokens
  std::deque<std::pair<std::int64_t, Tokens>> recent_ GUARDED_BY(mu_);
};

}  // namespace ergon::engine
