// fashion_mnist baseline learner: softmax regression (a linear model over
// the features, one weight row per class) trained by minibatch SGD on the
// cross-entropy loss.
//
// Wire protocol: reads train-images.idx (signed bytes, rows x features),
// train-labels.idx (unsigned bytes, 0-9) and test-images.idx from the
// working directory; writes predictions.txt, one label per test row. The
// features are transformed (see the task's README): there is no image
// layout to exploit, only rows of numbers with labels.
//
// Napkin maths: `samples` SGD steps of features x 10 multiply-adds forward
// and again backward; at 784 features and 30,000 samples that is 470 M
// multiply-adds. The weights (784 x 10 floats, 31 KB) stay in L1.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

constexpr double kLr = 0.05;        // KNOB lr 0.05 range 0.001 1.0 log
constexpr int kSamples = 30000;     // KNOB samples 30000 range 500 300000 int log down
constexpr int kBatch = 16;          // KNOB batch 16 range 1 256 int log
constexpr double kRowsRead = 1.0;   // KNOB rows_read 1.0 range 0.02 1.0 log down
// rows_read: the share of the train rows read (the first ones).
constexpr int kClasses = 10;

static void Fail(const char* what) {
  std::fprintf(stderr, "baseline: %s\n", what);
  std::exit(1);
}

// An idx file of bytes: its dimensions, then its first `max_rows` rows at most.
struct Idx {
  std::vector<std::uint32_t> dims;
  std::vector<std::int8_t> data;
};

static Idx ReadIdx(const char* path, std::uint32_t max_rows) {
  std::FILE* f = std::fopen(path, "rb");
  if (!f) Fail("cannot open an input file");
  unsigned char head[4];
  if (std::fread(head, 1, 4, f) != 4 || head[0] || head[1]) Fail("not an idx file");
  Idx idx;
  std::size_t row = 1;
  for (int d = 0; d < head[3]; ++d) {
    unsigned char b[4];
    if (std::fread(b, 1, 4, f) != 4) Fail("short idx header");
    idx.dims.push_back(static_cast<std::uint32_t>(b[0]) << 24 | b[1] << 16 | b[2] << 8 | b[3]);
    if (d > 0) row *= idx.dims.back();
  }
  if (idx.dims[0] > max_rows) idx.dims[0] = max_rows;
  idx.data.resize(idx.dims[0] * row);
  if (std::fread(idx.data.data(), 1, idx.data.size(), f) != idx.data.size()) Fail("short idx file");
  std::fclose(f);
  return idx;
}

int main() {
  const Idx labels = ReadIdx("train-labels.idx", 1u << 30);
  const auto keep = static_cast<std::uint32_t>(labels.dims[0] * kRowsRead);
  const Idx train = ReadIdx("train-images.idx", keep > 0 ? keep : 1);
  const int rows = static_cast<int>(train.dims[0]), n = static_cast<int>(train.dims[1]);
  if (labels.dims[0] < train.dims[0]) Fail("fewer labels than images");

  // W [classes x n], b [classes]; features centred on the train rows' mean
  // (the task adds a secret offset) and scaled to about unit range.
  const float scale = 1.0f / 64.0f;
  std::vector<float> mean(static_cast<size_t>(n), 0.0f);
  for (int r = 0; r < rows; ++r)
    for (int i = 0; i < n; ++i) mean[static_cast<size_t>(i)] += train.data[static_cast<size_t>(r) * n + i];
  for (auto& m : mean) m /= static_cast<float>(rows);
  std::vector<float> w(static_cast<size_t>(kClasses * n), 0.0f), b(kClasses, 0.0f);
  std::vector<float> gw(w.size()), gb(kClasses), p(kClasses);

  auto logits = [&](const std::int8_t* x, float* out) {
    for (int c = 0; c < kClasses; ++c) {
      const float* wc = &w[static_cast<size_t>(c * n)];
      float a = b[static_cast<size_t>(c)];
      for (int i = 0; i < n; ++i) a += wc[i] * ((x[i] - mean[static_cast<size_t>(i)]) * scale);
      out[c] = a;
    }
  };

  // Rows in a fixed pseudo-random order (the learner's own seed, not the task's).
  unsigned state = 1;
  for (int step = 0; step < kSamples; step += kBatch) {
    std::fill(gw.begin(), gw.end(), 0.0f);
    std::fill(gb.begin(), gb.end(), 0.0f);
    for (int k = 0; k < kBatch; ++k) {
      state = state * 1664525u + 1013904223u;
      const int r = static_cast<int>((state >> 8) % static_cast<unsigned>(rows));
      const std::int8_t* x = &train.data[static_cast<size_t>(r) * static_cast<size_t>(n)];
      logits(x, p.data());
      float top = p[0], sum = 0;
      for (int c = 1; c < kClasses; ++c) top = p[c] > top ? p[c] : top;
      for (int c = 0; c < kClasses; ++c) sum += (p[c] = std::exp(p[c] - top));
      const int y = labels.data[static_cast<size_t>(r)];
      for (int c = 0; c < kClasses; ++c) {
        const float d = p[c] / sum - (c == y ? 1.0f : 0.0f);
        gb[static_cast<size_t>(c)] += d;
        float* g = &gw[static_cast<size_t>(c * n)];
        for (int i = 0; i < n; ++i) g[i] += d * ((x[i] - mean[static_cast<size_t>(i)]) * scale);
      }
    }
    const float lr = static_cast<float>(kLr) / kBatch;
    for (size_t t = 0; t < w.size(); ++t) w[t] -= lr * gw[t];
    for (int c = 0; c < kClasses; ++c) b[static_cast<size_t>(c)] -= lr * gb[static_cast<size_t>(c)];
  }

  const Idx test = ReadIdx("test-images.idx", 1u << 30);
  if (static_cast<int>(test.dims[1]) != n) Fail("test features differ from train features");
  std::FILE* out = std::fopen("predictions.txt", "w");
  if (!out) Fail("cannot write predictions.txt");
  for (std::uint32_t r = 0; r < test.dims[0]; ++r) {
    logits(&test.data[static_cast<size_t>(r) * static_cast<size_t>(n)], p.data());
    int best = 0;
    for (int c = 1; c < kClasses; ++c) best = p[c] > p[best] ? c : best;
    std::fprintf(out, "%d\n", best);
  }
  if (std::fclose(out) != 0) Fail("cannot write predictions.txt");
  return 0;
}
