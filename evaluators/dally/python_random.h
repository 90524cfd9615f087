// CPython's random.Random (MT19937), only the parts the Sutro group's suite
// generators use, reproduced bit for bit (SPEC.md §12) so ergon regenerates
// their instances exactly.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace ergon::evaluators::dally {

class PythonRandom {
 public:
  // random.Random(N) for N >= 0 given as 32-bit words, least significant first.
  explicit PythonRandom(const std::vector<std::uint32_t>& seed_words);
  static PythonRandom FromUint64(std::uint64_t seed);

  std::uint32_t GetRandBits(int k) { return Next() >> (32 - k); }  // 1 <= k <= 32
  std::uint32_t RandBelow(std::uint32_t n);  // n >= 1
  // random.sample(range(n), k) in pick order (not sorted).
  std::vector<int> SampleRange(int n, int k);

 private:
  // Inline: a suite draws a million single bits, one call each.
  std::uint32_t Next() {
    if (index_ >= 624) Twist();
    std::uint32_t y = mt_[static_cast<std::size_t>(index_++)];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
  }
  void Twist();  // the next 624 words of state
  std::array<std::uint32_t, 624> mt_{};
  int index_ = 624;
};

}  // namespace ergon::evaluators::dally
