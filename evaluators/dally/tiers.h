// The small and medium tiers (SPEC.md §10): learn a k-sparse parity from
// m_train rows and predict m_test labels; the IR's outputs must equal y_test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "evaluators/dally/ir.h"

namespace ergon::evaluators::dally {

struct TierSpec {
  const char* name;
  int n_bits, k_secret, m_train, m_test, seeds;
  int inputs() const { return n_bits * m_train + m_train + n_bits * m_test; }
};
constexpr TierSpec kSmall{"small", 3, 2, 4, 32, 64};
constexpr TierSpec kMedium{"medium", 8, 3, 8, 64, 8};

struct TierInstance {
  std::vector<int> secret;          // sorted columns
  std::vector<std::int8_t> inputs;  // X_train, y_train, X_test
  std::vector<std::int8_t> y_test;
};

// sparse_parity.generate(seed) reproduced exactly (CPython MT19937).
TierInstance GenerateTierInstance(const TierSpec& tier, std::uint64_t seed);

struct TierScore {
  std::uint64_t cost = 0;
  double accuracy = 0;        // mean fraction of right predictions
  std::size_t exact = 0;      // instances with every prediction right
  std::size_t instances = 0, lines = 0;
};

// Arity checks as upstream, then runs every instance.
tl::expected<TierScore, IrError> ScoreTier(const IrProgram& program, const TierSpec& tier,
                                           const std::vector<TierInstance>& instances);

}  // namespace ergon::evaluators::dally
