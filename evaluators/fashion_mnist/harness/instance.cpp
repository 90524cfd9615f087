#include "evaluators/fashion_mnist/harness/instance.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "evaluators/learning/splitmix.h"

namespace ergon::evaluators {
namespace {

using learning::SplitMix;

constexpr int kBlock = 32;        // features rotated together
constexpr double kScale = 64.0;   // a centred feature of 1.0 becomes 64
constexpr double kShift = 0.5;    // the secret offset's spread, per feature

// Uniform in [0, n).
std::uint64_t Below(std::uint64_t& s, std::uint64_t n) { return SplitMix(s) % n; }

// Standard normal (Box-Muller), from the harness's own stream.
double Normal(std::uint64_t& s) {
  const double u = (static_cast<double>(SplitMix(s) >> 11) + 0.5) / 9007199254740992.0;
  const double v = static_cast<double>(SplitMix(s) >> 11) / 9007199254740992.0;
  return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
}

// `count` distinct indices below n, in a random order (partial Fisher-Yates).
std::vector<std::uint32_t> Draw(std::uint64_t& s, std::size_t n, int count) {
  std::vector<std::uint32_t> all(n);
  std::iota(all.begin(), all.end(), 0u);
  for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i)
    std::swap(all[i], all[i + Below(s, n - i)]);
  all.resize(static_cast<std::size_t>(count));
  return all;
}

// A random n x n orthogonal matrix (row-major): Gram-Schmidt on Gaussian rows.
std::vector<double> Orthogonal(std::uint64_t& s, int n) {
  std::vector<double> q(static_cast<std::size_t>(n * n));
  for (int r = 0; r < n; ++r) {
    double* row = &q[static_cast<std::size_t>(r * n)];
    for (;;) {
      for (int c = 0; c < n; ++c) row[c] = Normal(s);
      for (int p = 0; p < r; ++p) {
        const double* prev = &q[static_cast<std::size_t>(p * n)];
        double dot = 0;
        for (int c = 0; c < n; ++c) dot += row[c] * prev[c];
        for (int c = 0; c < n; ++c) row[c] -= dot * prev[c];
      }
      double norm = 0;
      for (int c = 0; c < n; ++c) norm += row[c] * row[c];
      norm = std::sqrt(norm);
      if (norm < 1e-6) continue;  // a draw in the span of the rows before: draw again
      for (int c = 0; c < n; ++c) row[c] /= norm;
      break;
    }
  }
  return q;
}

// Area weights of `from` source pixels on `to` cells: w[cell * from + pixel].
std::vector<double> AreaWeights(int from, int to) {
  std::vector<double> w(static_cast<std::size_t>(to * from), 0.0);
  const double step = static_cast<double>(from) / to;
  for (int cell = 0; cell < to; ++cell) {
    const double lo = cell * step, hi = (cell + 1) * step;
    for (int p = 0; p < from; ++p) {
      const double overlap = std::min<double>(hi, p + 1) - std::max<double>(lo, p);
      if (overlap > 0) w[static_cast<std::size_t>(cell * from + p)] = overlap / step;
    }
  }
  return w;
}

// The secret map of one instance, applied to centred features.
struct FeatureMap {
  std::vector<std::uint32_t> order;               // output feature f reads input order[f]
  std::vector<std::vector<double>> rotations;     // one per block of kBlock features
  std::vector<double> shift;                      // added last

  std::vector<double> Apply(const std::vector<double>& x) const {
    const int d = static_cast<int>(order.size());
    std::vector<double> permuted(order.size()), out(order.size(), 0.0);
    for (int f = 0; f < d; ++f) permuted[static_cast<std::size_t>(f)] = x[order[static_cast<std::size_t>(f)]];
    for (int b = 0; b * kBlock < d; ++b) {
      const int start = b * kBlock, n = std::min(kBlock, d - start);
      const std::vector<double>& q = rotations[static_cast<std::size_t>(b)];
      for (int r = 0; r < n; ++r) {
        double acc = 0;
        for (int c = 0; c < n; ++c) acc += q[static_cast<std::size_t>(r * n + c)] * permuted[static_cast<std::size_t>(start + c)];
        out[static_cast<std::size_t>(start + r)] = acc + shift[static_cast<std::size_t>(start + r)];
      }
    }
    return out;
  }
};

std::int8_t Quantise(double v) {
  return static_cast<std::int8_t>(std::clamp(std::lround(v * kScale), -127L, 127L));
}

}  // namespace

std::vector<double> ReduceImage(const std::uint8_t* image, int rows, int cols, int side) {
  std::vector<double> out(static_cast<std::size_t>(side * side), 0.0);
  if (side == rows && side == cols) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = image[i] / 255.0;
    return out;
  }
  const std::vector<double> wr = AreaWeights(rows, side), wc = AreaWeights(cols, side);
  // Columns first: tmp[r][j] = sum_c image[r][c] * wc[j][c].
  std::vector<double> tmp(static_cast<std::size_t>(rows * side), 0.0);
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < side; ++j) {
      double acc = 0;
      for (int c = 0; c < cols; ++c) acc += image[r * cols + c] * wc[static_cast<std::size_t>(j * cols + c)];
      tmp[static_cast<std::size_t>(r * side + j)] = acc;
    }
  for (int i = 0; i < side; ++i)
    for (int j = 0; j < side; ++j) {
      double acc = 0;
      for (int r = 0; r < rows; ++r) acc += wr[static_cast<std::size_t>(i * rows + r)] * tmp[static_cast<std::size_t>(r * side + j)];
      out[static_cast<std::size_t>(i * side + j)] = acc / 255.0;
    }
  return out;
}

ImageInstance MakeImageInstance(const ImageSet& set, const ImageTier& tier, std::uint64_t key) {
  std::uint64_t s = key;
  ImageInstance inst;
  inst.features = tier.features();
  inst.train_index = Draw(s, set.train_count(), tier.train_rows);
  inst.test_index = Draw(s, set.test_count(), tier.test_rows);
  const auto d = static_cast<std::size_t>(inst.features);

  FeatureMap map;
  map.order = Draw(s, d, inst.features);
  for (int start = 0; start < inst.features; start += kBlock)
    map.rotations.push_back(Orthogonal(s, std::min(kBlock, inst.features - start)));
  for (int f = 0; f < inst.features; ++f) map.shift.push_back(kShift * Normal(s));

  // Two passes over the train rows (the mean, then the features), so that
  // only the signed bytes are kept: 60,000 rows of 784 doubles would be 376 MB.
  std::vector<double> mean(d, 0.0);
  for (std::uint32_t i : inst.train_index) {
    const std::vector<double> x = ReduceImage(set.train_image(i), set.rows, set.cols, tier.side);
    for (std::size_t f = 0; f < d; ++f) mean[f] += x[f] / tier.train_rows;
  }
  auto emit = [&](const std::uint8_t* image, std::vector<std::int8_t>& out) {
    std::vector<double> x = ReduceImage(image, set.rows, set.cols, tier.side);
    for (std::size_t f = 0; f < d; ++f) x[f] -= mean[f];
    for (double v : map.Apply(x)) out.push_back(Quantise(v));
  };
  inst.train_x.reserve(d * inst.train_index.size());
  inst.test_x.reserve(d * inst.test_index.size());
  for (std::uint32_t i : inst.train_index) {
    emit(set.train_image(i), inst.train_x);
    inst.train_y.push_back(set.train_labels[i]);
  }
  for (std::uint32_t i : inst.test_index) {
    emit(set.test_image(i), inst.test_x);
    inst.test_y.push_back(set.test_labels[i]);
  }
  return inst;
}

}  // namespace ergon::evaluators
