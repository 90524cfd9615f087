// The matmul boards on the Dally model (rules: tests/data/dally/matmul/
// SOURCE.md): an n x n product in instruction set v0 (add, sub, mul, copy),
// exact over the integers. The first line places A row-major then B
// row-major (2n^2 inputs, anywhere); the last line lists C row-major (n^2
// outputs). A `mul` whose operands' degrees, as polynomials in the inputs,
// sum to more than 2 is refused. The score is the static read cost.
//
// How "exact for any integer inputs" is checked. Every value of a v0
// program is a polynomial in the inputs with integer coefficients and no
// constant term (v0 has no `set`), and the degree rule keeps it at degree
// <= 2. The checker evaluates each value's three homogeneous parts (degree
// 0, 1, 2) at one point of Z_p, for a prime p of about 2^62 and a point
// drawn at random when the checker is made. A wrong output differs from the
// true entry of C by a nonzero integer polynomial d of degree <= 2:
//   - d mod p is zero only if p divides every coefficient of d; a program of
//     L lines makes coefficients below 2^(3L), so at most 3L/61 primes of
//     this size divide one, out of about 5e16: under 1e-12 for 2M lines;
//   - d mod p nonzero vanishes at a random point with probability <= 2/p
//     (Schwartz-Zippel), about 1e-18.
// The prime and point stay inside the checker, so a program cannot be built
// against them. Degrees are read from the same evaluation (a nonzero
// homogeneous part evaluates to zero with probability <= 2/p), so the
// degree rule is applied to true degrees: x*y - y*x has degree 0.
#pragma once

#include <cstdint>

#include <tl/expected.hpp>

#include "evaluators/dally/ir.h"

namespace ergon::evaluators::dally {

struct MatmulScore {
  std::uint64_t cost = 0;  // static read cost, outputs included
  std::size_t lines = 0;
  std::size_t adds = 0, subs = 0, muls = 0, copies = 0;
};

class MatmulChecker {
 public:
  // An n x n checker (1 <= n <= 64). `seed` 0 draws the prime and point from
  // the OS; another seed makes them reproducible (tests).
  explicit MatmulChecker(int n, std::uint64_t seed = 0);

  int n() const { return n_; }

  // The score of a correct program; otherwise the first fault with its
  // line: an op outside v0, wrong arity, a degree-3 product, or an output
  // that is not its entry of C (one that holds another entry says which).
  // Thread-safe: Check does not change the checker.
  tl::expected<MatmulScore, IrError> Check(const IrProgram& program) const;

 private:
  int n_;
  std::uint64_t p_;                   // the secret prime
  std::vector<std::uint64_t> point_;  // the secret value of each input, mod p
  std::vector<std::uint64_t> c_;      // C = A B at the point, row-major
};

// Is `x` prime? (Deterministic Miller-Rabin for 64-bit numbers.)
bool IsPrime64(std::uint64_t x);

}  // namespace ergon::evaluators::dally
