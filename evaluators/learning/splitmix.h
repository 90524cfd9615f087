// splitmix64: the harness's one deterministic stream (instances, suite keys,
// corpus shuffles), the same on every machine and compiler, unlike the
// standard library's distributions.
#pragma once

#include <cstdint>

namespace ergon::evaluators::learning {

inline std::uint64_t SplitMix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace ergon::evaluators::learning
