#include "engine/novelty_index.h"

#include "genome/similarity.h"

namespace ergon::engine {
namespace {

std::uint64_t HashTokens(const std::vector<std::uint64_t>& t) {
  std::uint64_t h = 0x9e3779b97f4a7c15ull ^ t.size();
  for (auto x : t) h = (h ^ x) * 0x100000001b3ull + (h >> 29);
  return h;
}

}  // namespace

void NoveltyIndex::Add(std::int64_t id, const std::string& source) {
  auto tokens = genome::NormalisedTokens(source);
  const std::uint64_t h = HashTokens(tokens);
  base::MutexLock l(&mu_);
  by_hash_.emplace(h, id);
  recent_.emplace_back(id, std::make_shared<const std::vector<std::uint64_t>>(std::move(tokens)));
  while (recent_.size() > kCompared) recent_.pop_front();
}

std::optional<NoveltyIndex::Match> NoveltyIndex::NearCopy(const std::string& source) const {
  if (threshold_ <= 0 || threshold_ > 1) return std::nullopt;
  const auto tokens = genome::NormalisedTokens(source);
  std::vector<std::pair<std::int64_t, Tokens>> recent;
  {
    base::MutexLock l(&mu_);
    if (auto it = by_hash_.find(HashTokens(tokens)); it != by_hash_.end()) return Match{it->second, 1.0};
    if (threshold_ >= 1) return std::nullopt;
    recent.assign(recent_.begin(), recent_.end());
  }
  // The comparisons run outside the lock.
  std::optional<Match> best;
  for (const auto& [id, t] : recent) {
    const double s = genome::TokenSimilarity(tokens, *t);
    if (s >= threshold_ && (!best || s > best->similarity)) best = Match{id, s};
  }
  return best;
}

}  // namespace ergon::engine
