// The MASK32 tier (SPEC.md §11): 594 inputs (18x32 training bits row-major,
// then 18 labels), 32 outputs that must equal the 5-bit secret's indicator.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "evaluators/dally/ir.h"

namespace ergon::evaluators::dally {

constexpr int kMaskBits = 32, kMaskSecret = 5, kMaskRows = 18;
constexpr int kMaskInputs = kMaskBits * kMaskRows + kMaskRows;  // 594

struct MaskSuite {
  std::string name;
  std::size_t instances = 0;
  std::vector<std::int8_t> inputs;  // instances x 594
  std::vector<std::int8_t> masks;   // instances x 32
};

// Reads a suite saved as text (one line of 594 / 32 digits per instance).
tl::expected<MaskSuite, std::string> LoadMaskSuite(const std::string& inputs_path, const std::string& masks_path);

// How many 5-subsets of the 32 column signatures XOR to y: 0, 1, or 2 for
// "more than one" (an instance is kept only when exactly one does).
int CountMaskSolutions(const std::uint32_t* col, std::uint32_t y);

namespace internal {
// For tests: the meet in the middle alone, never the kernel enumeration that
// CountMaskSolutions prefers where the CPU has AVX-512 popcount.
int CountMaskSolutionsMeetInMiddle(const std::uint32_t* col, std::uint32_t y);
}  // namespace internal

// Regenerates the upstream keyed suite exactly: `key` "mask-dev" with 128
// secrets x 8 reps is the dev suite. Uniquely identifiable instances only.

tl::expected<MaskSuite, std::string> GenerateMaskSuite(const std::string& key, int n_secrets, int reps);

// A fresh suite whose key the caller never sees ("fresh-" + 32 random hex).
tl::expected<MaskSuite, std::string> FreshMaskSuite(int n_secrets, int reps);

struct MaskScore {
  std::uint64_t cost = 0;
  double recovery = 0;
  std::size_t correct = 0, instances = 0, lines = 0;
};

// Checks arity (594 in, 32 out), runs every instance, counts exact masks.
tl::expected<MaskScore, IrError> ScoreMask32(const IrProgram& program, const MaskSuite& suite);

}  // namespace ergon::evaluators::dally

namespace ergon::evaluators::dally {

// The suite a user names: "dev" (the official files in suites_dir), "fresh"
// (hidden key), or any other key (deterministic). `instances` = 0 means
// 2,048 for generated suites; it is rounded up to whole groups of 8 reps.
tl::expected<MaskSuite, std::string> MakeMaskSuite(const std::string& name, std::size_t instances,
                                                   const std::string& suites_dir);

}  // namespace ergon::evaluators::dally
