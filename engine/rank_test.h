// The Mann-Whitney U test (Wilcoxon rank-sum) for two independent samples,
// as a study compares the final results of two arms over seeds.
//
// Two-sided. Exact (the permutation distribution of the rank sum, ties
// given their mid-ranks) when the samples hold at most 20 values together;
// otherwise the normal approximation with the tie correction and a
// continuity correction of 1/2.
#pragma once

#include <vector>

namespace ergon::engine {

struct RankTest {
  double u = 0;         // U of the first sample: pairs (x, y) with x > y, ties counting 1/2
  double p = 1;         // two-sided p-value
  bool exact = false;   // from the permutation distribution
};

// p = 1 when either sample is empty.
RankTest MannWhitney(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace ergon::engine
