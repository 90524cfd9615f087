// One fashion_mnist instance, drawn by the trusted harness from a key the
// learner never sees: train rows from the data set's training file and test
// rows from its test file (so never the same image), each image reduced to
// side x side by area averaging, then put through a secret transformation
// of this instance, so that nothing a candidate brings or finds (the data
// set, a table of its images) matches what it is given.
//
// The transformation: centre each feature on the drawn train rows' mean,
// permute the features, rotate each run of up to 32 consecutive features by
// its own random orthogonal matrix, add a secret offset (each feature's
// drawn from a normal of spread 0.5), and round to signed bytes (x 64). It is
// an isometry before rounding, so a learner loses nothing by it: a linear
// model, a nearest-neighbour rule or a network learns from train rows as
// well as from the raw pixels, minus the spatial layout. The offset is
// there because a rotation alone keeps each row's norm, and a table of raw
// images matched by distance then scores above chance (0.16 on one suite).
#pragma once

#include <cstdint>
#include <vector>

#include "evaluators/fashion_mnist/harness/dataset.h"

namespace ergon::evaluators {

struct ImageTier {
  int side = 3;  // features per image: side x side
  int train_rows = 1000;
  int test_rows = 1000;

  int features() const { return side * side; }
};

struct ImageInstance {
  int features = 0;
  std::vector<std::int8_t> train_x, test_x;   // row-major, `features` per row
  std::vector<std::uint8_t> train_y, test_y;  // 0-9
  std::vector<std::uint32_t> train_index, test_index;  // the rows drawn, in the data set's files
};

// The means of the source pixels that fall on each of side x side cells
// (fractional pixels weighted by their area), in [0, 1]. side == rows: the
// pixels / 255.
std::vector<double> ReduceImage(const std::uint8_t* image, int rows, int cols, int side);

// Deterministic in (set, tier, key). Rows beyond what a file holds are an
// error of the tier (checked by the caller).
ImageInstance MakeImageInstance(const ImageSet& set, const ImageTier& tier, std::uint64_t key);

}  // namespace ergon::evaluators
