#include "evaluators/learning/parity_instance.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "evaluators/learning/splitmix.h"

namespace ergon::evaluators::learning {

ParityInstance MakeParityInstance(const ParitySpec& spec, std::uint64_t seed) {
  std::uint64_t s = seed;
  ParityInstance inst;
  std::vector<int> cols(static_cast<std::size_t>(spec.n));
  std::iota(cols.begin(), cols.end(), 0);
  for (int i = 0; i < spec.k; ++i) {
    auto j = static_cast<std::size_t>(i) + SplitMix(s) % static_cast<std::uint64_t>(spec.n - i);
    std::swap(cols[static_cast<std::size_t>(i)], cols[j]);
  }
  inst.secret.assign(cols.begin(), cols.begin() + spec.k);
  std::sort(inst.secret.begin(), inst.secret.end());
  auto fill = [&](int rows, std::vector<std::uint8_t>& x, std::vector<std::uint8_t>& y) {
    x.resize(static_cast<std::size_t>(rows) * static_cast<std::size_t>(spec.n));
    y.resize(static_cast<std::size_t>(rows));
    std::uint64_t bits = 0;
    int left = 0;
    for (auto& b : x) {
      if (left == 0) { bits = SplitMix(s); left = 64; }
      b = bits & 1;
      bits >>= 1;
      --left;
    }
    for (int r = 0; r < rows; ++r) {
      std::uint8_t p = 0;
      for (int c : inst.secret) p ^= x[static_cast<std::size_t>(r * spec.n + c)];
      y[static_cast<std::size_t>(r)] = p;
    }
  };
  fill(spec.train_rows, inst.train_x, inst.train_y);
  fill(spec.test_rows, inst.test_x, inst.test_y);
  return inst;
}

std::string TrainText(const ParitySpec& spec, const ParityInstance& inst) {
  std::string t = std::to_string(spec.n) + " " + std::to_string(spec.k) + " " + std::to_string(spec.train_rows) + "\n";
  t.reserve(t.size() + static_cast<std::size_t>(spec.train_rows) * static_cast<std::size_t>(spec.n + 3));
  for (int r = 0; r < spec.train_rows; ++r) {
    for (int c = 0; c < spec.n; ++c) t += static_cast<char>('0' + inst.train_x[static_cast<std::size_t>(r * spec.n + c)]);
    t += ' ';
    t += static_cast<char>('0' + inst.train_y[static_cast<std::size_t>(r)]);
    t += '\n';
  }
  return t;
}

std::string TestText(const ParitySpec& spec, const ParityInstance& inst) {
  std::string t = std::to_string(spec.n) + " " + std::to_string(spec.test_rows) + "\n";
  for (int r = 0; r < spec.test_rows; ++r) {
    for (int c = 0; c < spec.n; ++c) t += static_cast<char>('0' + inst.test_x[static_cast<std::size_t>(r * spec.n + c)]);
    t += '\n';
  }
  return t;
}

std::vector<std::uint64_t> SuiteSeeds(const std::string& suite, int instances) {
  std::vector<std::uint64_t> seeds;
  if (suite == "dev") {
    std::uint64_t s = 0x65726730646576ull;  // "erg0dev": fixed, public
    for (int i = 0; i < instances; ++i) seeds.push_back(SplitMix(s));
  } else {
    std::random_device rd;
    for (int i = 0; i < instances; ++i) seeds.push_back(static_cast<std::uint64_t>(rd()) << 32 | rd());
  }
  return seeds;
}

}  // namespace ergon::evaluators::learning
