#include "evaluators/dally/python_random.h"

#include <algorithm>
#include <numeric>

namespace ergon::evaluators::dally {
namespace {
constexpr int kN = 624, kM = 397;

// init_genrand(19650218), the start of every init_by_array: the same 624
// words for every seed, so computed once, at compile time.
constexpr std::array<std::uint32_t, kN> kInitGenrand = [] {
  std::array<std::uint32_t, kN> mt{};
  mt[0] = 19650218u;
  for (int i = 1; i < kN; ++i)
    mt[static_cast<std::size_t>(i)] =
        1812433253u * (mt[static_cast<std::size_t>(i - 1)] ^ (mt[static_cast<std::size_t>(i - 1)] >> 30)) +
        static_cast<std::uint32_t>(i);
  return mt;
}();

inline std::uint32_t Mix(std::uint32_t upper, std::uint32_t lower, std::uint32_t far) {
  const std::uint32_t y = (upper & 0x80000000u) | (lower & 0x7fffffffu);
  return far ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
}
}  // namespace

PythonRandom::PythonRandom(const std::vector<std::uint32_t>& seed_words) {
  std::vector<std::uint32_t> key = seed_words.empty() ? std::vector<std::uint32_t>{0} : seed_words;
  mt_ = kInitGenrand;
  int i = 1, j = 0;
  const int len = static_cast<int>(key.size());
  for (int k = std::max(kN, len); k; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525u)) + key[static_cast<std::size_t>(j)] +
             static_cast<std::uint32_t>(j);
    ++i;
    ++j;
    if (i >= kN) { mt_[0] = mt_[kN - 1]; i = 1; }
    if (j >= len) j = 0;
  }
  for (int k = kN - 1; k; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941u)) - static_cast<std::uint32_t>(i);
    ++i;
    if (i >= kN) { mt_[0] = mt_[kN - 1]; i = 1; }
  }
  mt_[0] = 0x80000000u;
  index_ = kN;
}

PythonRandom PythonRandom::FromUint64(std::uint64_t seed) {
  std::vector<std::uint32_t> w = {static_cast<std::uint32_t>(seed)};
  if (seed >> 32) w.push_back(static_cast<std::uint32_t>(seed >> 32));
  return PythonRandom(w);
}

// The generator's recurrence, in three loops without a modulo (the last
// words wrap around to the new first ones).
void PythonRandom::Twist() {
  int k = 0;
  for (; k < kN - kM; ++k) mt_[k] = Mix(mt_[k], mt_[k + 1], mt_[k + kM]);
  for (; k < kN - 1; ++k) mt_[k] = Mix(mt_[k], mt_[k + 1], mt_[k + kM - kN]);
  mt_[kN - 1] = Mix(mt_[kN - 1], mt_[0], mt_[kM - 1]);
  index_ = 0;
}

std::uint32_t PythonRandom::RandBelow(std::uint32_t n) {
  int bits = 32 - __builtin_clz(n);  // n.bit_length()
  std::uint32_t r = GetRandBits(bits);
  while (r >= n) r = GetRandBits(bits);
  return r;
}

std::vector<int> PythonRandom::SampleRange(int n, int k) {
  // CPython: setsize 21, grown by 4**ceil(log4(3k)) when k > 5.
  int setsize = 21;
  if (k > 5) {
    int p = 1;
    while (p < 3 * k) p *= 4;
    setsize += p;
  }
  std::vector<int> result(static_cast<std::size_t>(k));
  if (n <= setsize) {
    std::vector<int> pool(static_cast<std::size_t>(n));
    std::iota(pool.begin(), pool.end(), 0);
    for (int i = 0; i < k; ++i) {
      int j = static_cast<int>(RandBelow(static_cast<std::uint32_t>(n - i)));
      result[static_cast<std::size_t>(i)] = pool[static_cast<std::size_t>(j)];
      pool[static_cast<std::size_t>(j)] = pool[static_cast<std::size_t>(n - i - 1)];
    }
  } else {
    std::vector<bool> picked(static_cast<std::size_t>(n), false);
    for (int i = 0; i < k; ++i) {
      int j = static_cast<int>(RandBelow(static_cast<std::uint32_t>(n)));
      while (picked[static_cast<std::size_t>(j)]) j = static_cast<int>(RandBelow(static_cast<std::uint32_t>(n)));
      picked[static_cast<std::size_t>(j)] = true;
      result[static_cast<std::size_t>(i)] = j;
    }
  }
  return result;
}

}  // namespace ergon::evaluators::dally
