#include "engine/rank_test.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

namespace ergon::engine {
namespace {

// Mid-ranks (1-based) of all values, x first then y.
std::vector<double> MidRanks(const std::vector<double>& all) {
  std::vector<std::size_t> order(all.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return all[a] < all[b]; });
  std::vector<double> rank(all.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && all[order[j + 1]] == all[order[i]]) ++j;
    const double mid = (static_cast<double>(i) + static_cast<double>(j)) / 2 + 1;
    for (std::size_t k = i; k <= j; ++k) rank[order[k]] = mid;
    i = j + 1;
  }
  return rank;
}

}  // namespace

RankTest MannWhitney(const std::vector<double>& x, const std::vector<double>& y) {
  RankTest t;
  if (x.empty() || y.empty()) return t;
  const std::size_t n1 = x.size(), n2 = y.size(), n = n1 + n2;
  std::vector<double> all = x;
  all.insert(all.end(), y.begin(), y.end());
  const std::vector<double> rank = MidRanks(all);
  double r1 = 0;
  for (std::size_t i = 0; i < n1; ++i) r1 += rank[i];
  const double mean = static_cast<double>(n1) * static_cast<double>(n + 1) / 2;
  t.u = r1 - static_cast<double>(n1 * (n1 + 1)) / 2;
  const double observed = std::fabs(r1 - mean);
  if (n <= 20) {
    // Every way to choose which n1 of the n ranks belong to the first sample.
    std::uint64_t as_extreme = 0, total = 0;
    std::vector<int> pick(n, 0);
    std::fill(pick.begin(), pick.begin() + static_cast<long>(n1), 1);
    std::sort(pick.begin(), pick.end());
    do {
      double sum = 0;
      for (std::size_t i = 0; i < n; ++i)
        if (pick[i]) sum += rank[i];
      ++total;
      as_extreme += std::fabs(sum - mean) >= observed - 1e-9;
    } while (std::next_permutation(pick.begin(), pick.end()));
    t.p = static_cast<double>(as_extreme) / static_cast<double>(total);
    t.exact = true;
    return t;
  }
  // Normal approximation, variance corrected for ties.
  double ties = 0;
  std::vector<double> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j + 1 < n && sorted[j + 1] == sorted[i]) ++j;
    const double c = static_cast<double>(j - i + 1);
    ties += c * c * c - c;
    i = j + 1;
  }
  const double nn = static_cast<double>(n);
  const double var = static_cast<double>(n1) * static_cast<double>(n2) / 12 * ((nn + 1) - ties / (nn * (nn - 1)));
  if (var <= 0) return t;
  const double z = std::max(0.0, observed - 0.5) / std::sqrt(var);
  t.p = std::min(1.0, std::erfc(z / std::sqrt(2.0)));
  return t;
}

}  // namespace ergon::engine
