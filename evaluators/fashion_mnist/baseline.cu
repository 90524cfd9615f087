// fashion_mnist baseline learner, CUDA variant: the same softmax regression
// and minibatch SGD as baseline.cpp (its CPU reference), with the same knobs
// and the same sample order. Same wire protocol (train-images.idx,
// train-labels.idx, test-images.idx -> predictions.txt).
//
// nvcc -O2 -std=c++17 -o baseline baseline.cu
//
// Napkin maths per batch of 16 at 784 features: 16 x 10 x 784 MACs forward
// and as many backward, 250 K in all, spread over one thread per (row,
// class): a few microseconds of arithmetic against two launches of fixed
// cost, so this learner measures the GPU's fixed costs more than its
// arithmetic, which is the point of metering it.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

constexpr float kLr = 0.05f;        // KNOB lr 0.05 range 0.001 1.0 log
constexpr int kSamples = 30000;     // KNOB samples 30000 range 500 300000 int log down
constexpr int kBatch = 16;          // KNOB batch 16 range 1 256 int log
constexpr double kRowsRead = 1.0;   // KNOB rows_read 1.0 range 0.02 1.0 log down
constexpr int kClasses = 10;

#define cudaCheck(call)                                                                   \
  do {                                                                                    \
    cudaError_t err_ = (call);                                                            \
    if (err_ != cudaSuccess) {                                                            \
      std::fprintf(stderr, "%s:%d: CUDA error: %s\n", __FILE__, __LINE__, cudaGetErrorString(err_)); \
      std::exit(1);                                                                       \
    }                                                                                     \
  } while (0)

static void Fail(const char* what) {
  std::fprintf(stderr, "baseline.cu: %s\n", what);
  std::exit(1);
}

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

// logits[b][c] = bias[c] + sum_i w[c][i] * (x[rows[b]][i] - mean[i]) / 64; one thread per (b, c).
__global__ void batch_logits(const std::int8_t* x, const int* rows, int n, const float* mean, const float* w,
                             const float* bias, float* logits) {
  const int b = blockIdx.x, c = threadIdx.x;
  const std::int8_t* xi = x + static_cast<size_t>(rows[b]) * n;
  float a = bias[c];
  for (int i = 0; i < n; ++i) a += w[c * n + i] * ((xi[i] - mean[i]) * (1.0f / 64.0f));
  logits[b * kClasses + c] = a;
}

// The softmax's gradient wrt the logits, in place: p - onehot(y). One thread per row.
__global__ void softmax_grad(float* logits, const int* rows, const std::uint8_t* labels, int batch) {
  const int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= batch) return;
  float* l = logits + b * kClasses;
  float top = l[0], sum = 0.f;
  for (int c = 1; c < kClasses; ++c) top = fmaxf(top, l[c]);
  for (int c = 0; c < kClasses; ++c) sum += (l[c] = expf(l[c] - top));
  const int y = labels[rows[b]];
  for (int c = 0; c < kClasses; ++c) l[c] = l[c] / sum - (c == y ? 1.f : 0.f);
}

// w[c][i] -= lr/batch * sum_b d[b][c] * (x[rows[b]][i] - mean[i]) / 64 (and the
// bias); one block per class, threads over features.
__global__ void sgd_update(const std::int8_t* x, const int* rows, int n, const float* mean, int batch, const float* d,
                           float lr, float* w, float* bias) {
  const int c = blockIdx.x;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    float g = 0.f;
    for (int b = 0; b < batch; ++b)
      g += d[b * kClasses + c] * ((x[static_cast<size_t>(rows[b]) * n + i] - mean[i]) * (1.0f / 64.0f));
    w[c * n + i] -= lr / batch * g;
  }
  if (threadIdx.x == 0) {
    float g = 0.f;
    for (int b = 0; b < batch; ++b) g += d[b * kClasses + c];
    bias[c] -= lr / batch * g;
  }
}

// pred[r] = argmax_c logits of test row r; one thread per row.
__global__ void predict(const std::int8_t* x, int count, int n, const float* mean, const float* w, const float* bias,
                        int* pred) {
  const int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= count) return;
  const std::int8_t* xi = x + static_cast<size_t>(r) * n;
  int best = 0;
  float best_logit = -1e30f;
  for (int c = 0; c < kClasses; ++c) {
    float a = bias[c];
    for (int i = 0; i < n; ++i) a += w[c * n + i] * ((xi[i] - mean[i]) * (1.0f / 64.0f));
    if (a > best_logit) best_logit = a, best = c;
  }
  pred[r] = best;
}

int main() {
  const Idx labels = ReadIdx("train-labels.idx", 1u << 30);
  const auto keep = static_cast<std::uint32_t>(labels.dims[0] * kRowsRead);
  const Idx train = ReadIdx("train-images.idx", keep > 0 ? keep : 1);
  const int rows = static_cast<int>(train.dims[0]), n = static_cast<int>(train.dims[1]);
  if (labels.dims[0] < train.dims[0]) Fail("fewer labels than images");

  // The train rows' mean per feature (the task adds a secret offset), as
  // baseline.cpp centres on it.
  std::vector<float> mean(static_cast<size_t>(n), 0.0f);
  for (int r = 0; r < rows; ++r)
    for (int i = 0; i < n; ++i) mean[static_cast<size_t>(i)] += train.data[static_cast<size_t>(r) * n + i];
  for (auto& m : mean) m /= static_cast<float>(rows);

  // The sample order of baseline.cpp, drawn here and uploaded once.
  const int steps = (kSamples + kBatch - 1) / kBatch;
  std::vector<int> order(static_cast<size_t>(steps) * kBatch);
  unsigned state = 1;
  for (auto& r : order) {
    state = state * 1664525u + 1013904223u;
    r = static_cast<int>((state >> 8) % static_cast<unsigned>(rows));
  }

  std::int8_t* d_x;
  std::uint8_t* d_y;
  int *d_order, *d_pred;
  float *d_w, *d_b, *d_logits, *d_mean;
  cudaCheck(cudaMalloc(&d_x, train.data.size()));
  cudaCheck(cudaMalloc(&d_y, labels.data.size()));
  cudaCheck(cudaMalloc(&d_order, order.size() * sizeof(int)));
  cudaCheck(cudaMalloc(&d_w, sizeof(float) * kClasses * n));
  cudaCheck(cudaMalloc(&d_b, sizeof(float) * kClasses));
  cudaCheck(cudaMalloc(&d_logits, sizeof(float) * kBatch * kClasses));
  cudaCheck(cudaMalloc(&d_mean, sizeof(float) * n));
  cudaCheck(cudaMemcpy(d_mean, mean.data(), sizeof(float) * n, cudaMemcpyHostToDevice));
  cudaCheck(cudaMemcpy(d_x, train.data.data(), train.data.size(), cudaMemcpyHostToDevice));
  cudaCheck(cudaMemcpy(d_y, labels.data.data(), labels.data.size(), cudaMemcpyHostToDevice));
  cudaCheck(cudaMemcpy(d_order, order.data(), order.size() * sizeof(int), cudaMemcpyHostToDevice));
  cudaCheck(cudaMemset(d_w, 0, sizeof(float) * kClasses * n));
  cudaCheck(cudaMemset(d_b, 0, sizeof(float) * kClasses));

  for (int s = 0; s < steps; ++s) {
    const int* batch_rows = d_order + static_cast<size_t>(s) * kBatch;
    batch_logits<<<kBatch, kClasses>>>(d_x, batch_rows, n, d_mean, d_w, d_b, d_logits);
    softmax_grad<<<1, kBatch>>>(d_logits, batch_rows, d_y, kBatch);
    sgd_update<<<kClasses, 128>>>(d_x, batch_rows, n, d_mean, kBatch, d_logits, kLr, d_w, d_b);
  }
  cudaCheck(cudaGetLastError());

  const Idx test = ReadIdx("test-images.idx", 1u << 30);
  if (static_cast<int>(test.dims[1]) != n) Fail("test features differ from train features");
  const int count = static_cast<int>(test.dims[0]);
  std::int8_t* d_test;
  cudaCheck(cudaMalloc(&d_test, test.data.size()));
  cudaCheck(cudaMalloc(&d_pred, sizeof(int) * count));
  cudaCheck(cudaMemcpy(d_test, test.data.data(), test.data.size(), cudaMemcpyHostToDevice));
  predict<<<(count + 127) / 128, 128>>>(d_test, count, n, d_mean, d_w, d_b, d_pred);
  std::vector<int> pred(static_cast<size_t>(count));
  cudaCheck(cudaMemcpy(pred.data(), d_pred, sizeof(int) * count, cudaMemcpyDeviceToHost));

  std::FILE* out = std::fopen("predictions.txt", "w");
  if (!out) Fail("cannot write predictions.txt");
  for (int p : pred) std::fprintf(out, "%d\n", p);
  if (std::fclose(out) != 0) Fail("cannot write predictions.txt");
  return 0;
}
