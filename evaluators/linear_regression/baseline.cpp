// linear_regression baseline: plain stochastic gradient descent on the squared
// error, one pass over the training rows per epoch, weights and bias from zero.
// Reads train.txt and test.txt, writes predictions.txt.
#include <cstdio>
#include <vector>

constexpr int kEpochs = 40;       // KNOB epochs 40 range 1 200 int log down
constexpr double kLr = 0.05;      // KNOB lr 0.05 range 0.001 0.5 log
constexpr int kMaxRows = 2000;    // KNOB rows 2000 range 20 2000 int log down

int main() {
  FILE* f = std::fopen("train.txt", "r");
  if (!f) return 1;
  int d = 0, n = 0;
  if (std::fscanf(f, "%d %d", &d, &n) != 2 || d <= 0 || n <= 0) return 1;
  const int rows = n < kMaxRows ? n : kMaxRows;
  std::vector<double> x(static_cast<size_t>(rows) * d), y(rows);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < d; ++j)
      if (std::fscanf(f, "%lf", &x[static_cast<size_t>(i) * d + j]) != 1) return 1;
    if (std::fscanf(f, "%lf", &y[i]) != 1) return 1;
  }
  std::fclose(f);

  std::vector<double> w(d, 0.0);
  double b = 0.0;
  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    for (int i = 0; i < rows; ++i) {
      const double* xi = &x[static_cast<size_t>(i) * d];
      double p = b;
      for (int j = 0; j < d; ++j) p += w[j] * xi[j];
      const double g = p - y[i];
      for (int j = 0; j < d; ++j) w[j] -= kLr * g * xi[j];
      b -= kLr * g;
    }
  }

  FILE* t = std::fopen("test.txt", "r");
  FILE* out = std::fopen("predictions.txt", "w");
  if (!t || !out) return 1;
  int td = 0, m = 0;
  if (std::fscanf(t, "%d %d", &td, &m) != 2 || td != d) return 1;
  for (int i = 0; i < m; ++i) {
    double p = b, v = 0;
    for (int j = 0; j < d; ++j) {
      if (std::fscanf(t, "%lf", &v) != 1) return 1;
      p += w[j] * v;
    }
    std::fprintf(out, "%.6f\n", p);
  }
  std::fclose(t);
  std::fclose(out);
  return 0;
}
