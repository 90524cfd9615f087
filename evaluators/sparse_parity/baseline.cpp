// sparse_parity baseline learner: the Sutro group's published SGD
// configuration. A 20 -> 200 ReLU -> 1 MLP, hinge loss on labels in {-1,+1},
// SGD with lr 0.1, weight decay 0.01, batch 32, He initialisation; stops when
// training accuracy reaches 100% or after 200 epochs.
//
// Wire protocol: reads train.txt ("n k m", then m lines "<n bits> <label>")
// and test.txt ("n m", then m lines of n bits) from the working directory,
// writes predictions.txt (one 0/1 per test row). Reading fewer training rows
// costs less energy: `rows` caps how many are read.
//
// Napkin maths per epoch: m rows x (2 x 20 x 200 multiply-adds forward and
// backward) = 1,000 x 16,000 = 16 M flops; the weights (4,200 floats, 17 KB)
// stay in L1.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

constexpr double kLr = 0.1;           // KNOB lr 0.1 range 0.001 1.0 log
constexpr double kWeightDecay = 0.01;  // KNOB weight_decay 0.01 range 0.00001 0.1 log
constexpr int kHidden = 200;          // KNOB hidden 200 range 8 512 int log down
constexpr int kBatch = 32;            // KNOB batch 32 range 1 256 int log
constexpr int kMaxEpochs = 200;       // KNOB epochs 200 range 1 1000 int log down
constexpr int kMaxRows = 1000;        // KNOB rows 1000 range 20 1000 int log down
constexpr unsigned kSeed = 1;         // the learner's own seed (not the task's)

static void Fail(const char* what) {
  std::fprintf(stderr, "baseline: %s\n", what);
  std::exit(1);
}

// Reads `rows` lines of `n` bits (and a label when labels != nullptr).
static void ReadRows(std::FILE* f, int n, int rows, std::vector<float>& x, std::vector<float>* labels) {
  std::vector<char> line(static_cast<size_t>(n) + 16);
  for (int r = 0; r < rows; ++r) {
    if (std::fscanf(f, "%s", line.data()) != 1) Fail("short input file");
    for (int c = 0; c < n; ++c) x.push_back(line[static_cast<size_t>(c)] == '1' ? 1.0f : 0.0f);
    if (labels) {
      int y;
      if (std::fscanf(f, "%d", &y) != 1) Fail("missing label");
      labels->push_back(y ? 1.0f : -1.0f);
    }
  }
}

int main() {
  std::FILE* tf = std::fopen("train.txt", "r");
  if (!tf) Fail("cannot open train.txt");
  int n, k, m;
  if (std::fscanf(tf, "%d %d %d", &n, &k, &m) != 3) Fail("bad train.txt header");
  const int rows = m < kMaxRows ? m : kMaxRows;
  std::vector<float> x, y;
  ReadRows(tf, n, rows, x, &y);
  std::fclose(tf);

  // Parameters, He-initialised: W1 [H x n], b1 [H], W2 [H], b2.
  std::mt19937 rng(kSeed);
  std::normal_distribution<float> g1(0.0f, std::sqrt(2.0f / static_cast<float>(n)));
  std::normal_distribution<float> g2(0.0f, std::sqrt(2.0f / static_cast<float>(kHidden)));
  std::vector<float> w1(static_cast<size_t>(kHidden) * static_cast<size_t>(n)), b1(kHidden, 0.0f), w2(kHidden);
  float b2 = 0.0f;
  for (auto& w : w1) w = g1(rng);
  for (auto& w : w2) w = g2(rng);

  std::vector<float> h(kHidden), gw1(w1.size()), gb1(kHidden), gw2(kHidden);
  std::vector<int> order(static_cast<size_t>(rows));
  for (int i = 0; i < rows; ++i) order[static_cast<size_t>(i)] = i;

  auto forward = [&](const float* xi) {
    float out = b2;
    for (int j = 0; j < kHidden; ++j) {
      float a = b1[static_cast<size_t>(j)];
      const float* wj = &w1[static_cast<size_t>(j) * static_cast<size_t>(n)];
      for (int c = 0; c < n; ++c) a += wj[c] * xi[c];
      h[static_cast<size_t>(j)] = a > 0 ? a : 0;
      out += w2[static_cast<size_t>(j)] * h[static_cast<size_t>(j)];
    }
    return out;
  };

  for (int epoch = 0; epoch < kMaxEpochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    for (int start = 0; start < rows; start += kBatch) {
      const int end = start + kBatch < rows ? start + kBatch : rows;
      std::fill(gw1.begin(), gw1.end(), 0.0f);
      std::fill(gb1.begin(), gb1.end(), 0.0f);
      std::fill(gw2.begin(), gw2.end(), 0.0f);
      float gb2 = 0.0f;
      for (int b = start; b < end; ++b) {
        const int i = order[static_cast<size_t>(b)];
        const float* xi = &x[static_cast<size_t>(i) * static_cast<size_t>(n)];
        const float out = forward(xi);
        if (y[static_cast<size_t>(i)] * out >= 1.0f) continue;  // hinge: no gradient
        const float d = -y[static_cast<size_t>(i)];
        gb2 += d;
        for (int j = 0; j < kHidden; ++j) {
          gw2[static_cast<size_t>(j)] += d * h[static_cast<size_t>(j)];
          if (h[static_cast<size_t>(j)] <= 0) continue;
          const float dj = d * w2[static_cast<size_t>(j)];
          gb1[static_cast<size_t>(j)] += dj;
          float* gj = &gw1[static_cast<size_t>(j) * static_cast<size_t>(n)];
          for (int c = 0; c < n; ++c) gj[c] += dj * xi[c];
        }
      }
      const float scale = static_cast<float>(kLr) / static_cast<float>(end - start);
      const float decay = static_cast<float>(kLr * kWeightDecay);
      for (size_t t = 0; t < w1.size(); ++t) w1[t] -= scale * gw1[t] + decay * w1[t];
      for (int j = 0; j < kHidden; ++j) {
        b1[static_cast<size_t>(j)] -= scale * gb1[static_cast<size_t>(j)];
        w2[static_cast<size_t>(j)] -= scale * gw2[static_cast<size_t>(j)] + decay * w2[static_cast<size_t>(j)];
      }
      b2 -= scale * gb2;
    }
    int right = 0;
    for (int i = 0; i < rows; ++i)
      right += (forward(&x[static_cast<size_t>(i) * static_cast<size_t>(n)]) > 0) == (y[static_cast<size_t>(i)] > 0);
    if (right == rows) {
      std::fprintf(stderr, "baseline: 100%% training accuracy after %d epochs\n", epoch + 1);
      break;
    }
  }

  std::FILE* sf = std::fopen("test.txt", "r");
  if (!sf) Fail("cannot open test.txt");
  int tn, tm;
  if (std::fscanf(sf, "%d %d", &tn, &tm) != 2 || tn != n) Fail("bad test.txt header");
  std::vector<float> tx;
  ReadRows(sf, n, tm, tx, nullptr);
  std::fclose(sf);
  std::FILE* pf = std::fopen("predictions.txt", "w");
  if (!pf) Fail("cannot write predictions.txt");
  for (int i = 0; i < tm; ++i) std::fputs(forward(&tx[static_cast<size_t>(i) * static_cast<size_t>(n)]) > 0 ? "1\n" : "0\n", pf);
  if (std::fclose(pf) != 0) Fail("cannot write predictions.txt");
  return 0;
}
