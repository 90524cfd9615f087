// Address layout by min-cost flow, for a fixed instruction order.
//
// Reading address a costs ceil(sqrt(a)), so addresses come in cost tiers:
// tier t holds (t-1)^2+1 .. t^2, 2t-1 addresses at cost t. Given each
// value's lifetime and read count, which values share a tier matters; which
// address inside the tier does not. Choosing the heaviest set of lifetimes
// that fits in k addresses at every instant is a max-weight k-colourable
// interval problem, solved exactly as a min-cost flow along the timeline
// (k units flow from the first instant to the last; a unit either waits on
// the timeline or rides a lifetime, earning its reads).
//
//  - TierFlowLayout fills tier 1 with the heaviest set that fits, tier 2 with
//    the heaviest of the rest, and so on (on the matmul records: 668 for 4x4,
//    63,491 for 16x16, against the published 667 and 63,290).
//  - LayoutLowerBound: no layout of the same order costs less than
//    W + sum over j >= 1 of (W - F(j^2)), W all reads and F(m) the heaviest
//    set that fits in m addresses (reads from addresses above j^2 pay for
//    tier j+1 and beyond).
#pragma once

#include <cstdint>
#include <vector>

namespace ergon::evaluators::dally {

struct Lifetime {
  std::uint32_t start = 0, end = 0;  // holds its address over [start, end); start < end
  std::uint64_t reads = 0;           // how many operand reads it serves
  std::uint64_t pinned = 0;          // a fixed address (a board's fixed inputs), or 0
};

// An address (>= 1) for every lifetime: lifetimes that overlap never share
// one; pinned ones keep theirs. Lifetimes with no reads go above the rest.
std::vector<std::uint64_t> TierFlowLayout(const std::vector<Lifetime>& lives);

// The cost of `lives` placed at `addresses`: sum of reads * ceil(sqrt(a)).
std::uint64_t LayoutCost(const std::vector<Lifetime>& lives, const std::vector<std::uint64_t>& addresses);

// No layout of these lifetimes costs less (pins ignored: still a bound).
std::uint64_t LayoutLowerBound(const std::vector<Lifetime>& lives);

}  // namespace ergon::evaluators::dally
