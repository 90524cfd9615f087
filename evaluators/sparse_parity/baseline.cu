// sparse_parity baseline learner, CUDA variant: the same SGD MLP as
// baseline.cpp (its CPU reference): 20 -> 200 ReLU -> 1, hinge loss, lr 0.1,
// weight decay 0.01, batch 32, He init; stops at 100% training accuracy or
// after 200 epochs. Same wire protocol (train.txt, test.txt ->
// predictions.txt).
//
// nvcc -O2 -std=c++17 -o baseline baseline.cu
//
// Napkin maths per batch of 32: forward 32 x 200 x 20 MACs (one thread per
// (row, hidden unit)), backward the same again; the whole model is 17 KB, so
// every launch is latency-bound: this learner measures the GPU's fixed costs
// more than its arithmetic, which is the point of metering it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

constexpr float kLr = 0.1f;            // KNOB lr 0.1 range 0.001 1.0 log
constexpr float kWeightDecay = 0.01f;  // KNOB weight_decay 0.01 range 0.00001 0.1 log
constexpr int kHidden = 200;           // KNOB hidden 200 range 8 512 int log down
constexpr int kBatch = 32;             // KNOB batch 32 range 1 256 int log
constexpr int kMaxEpochs = 200;        // KNOB epochs 200 range 1 1000 int log down
constexpr int kMaxRows = 1000;         // KNOB rows 1000 range 20 1000 int log down

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

// h[b][j] = relu(b1[j] + sum_c w1[j][c] * x[idx[b]][c]); one thread per (b, j).
__global__ void hidden_forward(const float* x, const int* idx, int rows, int n, const float* w1, const float* b1,
                               float* h) {
  int b = blockIdx.x, j = threadIdx.x;
  if (b >= rows || j >= kHidden) return;
  const float* xi = x + static_cast<size_t>(idx[b]) * n;
  float a = b1[j];
  for (int c = 0; c < n; ++c) a += w1[j * n + c] * xi[c];
  h[b * kHidden + j] = a > 0.f ? a : 0.f;
}

// out[b] = b2 + sum_j w2[j] h[b][j]; d[b] = hinge gradient wrt out; counts
// right answers. One thread per row.
__global__ void output_and_grad(const float* h, const float* w2, const float* b2, const float* y, const int* idx,
                                int rows, float* out, float* d, int* right) {
  int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= rows) return;
  float o = *b2;
  for (int j = 0; j < kHidden; ++j) o += w2[j] * h[b * kHidden + j];
  out[b] = o;
  float yi = y[idx[b]];
  d[b] = yi * o < 1.f ? -yi : 0.f;
  if ((o > 0.f) == (yi > 0.f)) atomicAdd(right, 1);
}

// out[b] = b2 + sum_j w2[j] h[b][j], for prediction. One thread per row.
__global__ void output_only(const float* h, const float* w2, const float* b2, int rows, float* out) {
  int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= rows) return;
  float o = *b2;
  for (int j = 0; j < kHidden; ++j) o += w2[j] * h[b * kHidden + j];
  out[b] = o;
}

// Per hidden unit j: gradients over the batch, then the SGD step with weight
// decay. One block per j, one thread per input column c (plus the biases).
__global__ void backward_update(const float* x, const int* idx, int rows, int n, const float* h, const float* d,
                                float* w1, float* b1, float* w2, float* b2) {
  int j = blockIdx.x, c = threadIdx.x;
  const float scale = kLr / rows, decay = kLr * kWeightDecay;
  float w2j = w2[j];
  if (c < n) {
    float g = 0.f;
    for (int b = 0; b < rows; ++b)
      if (h[b * kHidden + j] > 0.f) g += d[b] * w2j * x[static_cast<size_t>(idx[b]) * n + c];
    w1[j * n + c] -= scale * g + decay * w1[j * n + c];
  }
  __syncthreads();  // every thread has read w2[j] before it changes
  if (c == 0) {
    float gb = 0.f, gw = 0.f;
    for (int b = 0; b < rows; ++b) {
      float hb = h[b * kHidden + j];
      gw += d[b] * hb;
      if (hb > 0.f) gb += d[b] * w2j;
    }
    b1[j] -= scale * gb;
    w2[j] -= scale * gw + decay * w2j;
  }
  if (j == 0 && c == 0) {
    float g = 0.f;
    for (int b = 0; b < rows; ++b) g += d[b];
    *b2 -= scale * g;
  }
}

static void ReadRows(std::FILE* f, int n, int rows, std::vector<float>& x, std::vector<float>* labels) {
  std::vector<char> line(static_cast<size_t>(n) + 16);
  for (int r = 0; r < rows; ++r) {
    if (std::fscanf(f, "%s", line.data()) != 1) Fail("short input file");
    for (int c = 0; c < n; ++c) x.push_back(line[static_cast<size_t>(c)] == '1' ? 1.f : 0.f);
    if (labels) {
      int y;
      if (std::fscanf(f, "%d", &y) != 1) Fail("missing label");
      labels->push_back(y ? 1.f : -1.f);
    }
  }
}

int main() {
  std::FILE* tf = std::fopen("train.txt", "r");
  if (!tf) Fail("cannot open train.txt");
  int n, k, m;
  if (std::fscanf(tf, "%d %d %d", &n, &k, &m) != 3 || n > 1024) Fail("bad train.txt header");
  const int rows = m < kMaxRows ? m : kMaxRows;
  std::vector<float> x, y;
  ReadRows(tf, n, rows, x, &y);
  std::fclose(tf);
  std::FILE* sf = std::fopen("test.txt", "r");
  int tn, tm;
  if (!sf || std::fscanf(sf, "%d %d", &tn, &tm) != 2 || tn != n) Fail("bad test.txt");
  std::vector<float> tx;
  ReadRows(sf, n, tm, tx, nullptr);
  std::fclose(sf);

  std::mt19937 rng(1);
  std::normal_distribution<float> g1(0.f, std::sqrt(2.f / n)), g2(0.f, std::sqrt(2.f / kHidden));
  std::vector<float> w1(static_cast<size_t>(kHidden) * n), w2(kHidden), zeros(kHidden, 0.f);
  for (auto& w : w1) w = g1(rng);
  for (auto& w : w2) w = g2(rng);

  const int most = rows > tm ? rows : tm;
  float *dx, *dtx, *dy, *dw1, *db1, *dw2, *db2, *dh, *dout, *dd;
  int *didx, *dright;
  cudaCheck(cudaMalloc(&dx, x.size() * sizeof(float)));
  cudaCheck(cudaMalloc(&dtx, tx.size() * sizeof(float)));
  cudaCheck(cudaMalloc(&dy, y.size() * sizeof(float)));
  cudaCheck(cudaMalloc(&dw1, w1.size() * sizeof(float)));
  cudaCheck(cudaMalloc(&db1, kHidden * sizeof(float)));
  cudaCheck(cudaMalloc(&dw2, kHidden * sizeof(float)));
  cudaCheck(cudaMalloc(&db2, sizeof(float)));
  cudaCheck(cudaMalloc(&dh, static_cast<size_t>(most) * kHidden * sizeof(float)));
  cudaCheck(cudaMalloc(&dout, most * sizeof(float)));
  cudaCheck(cudaMalloc(&dd, most * sizeof(float)));
  cudaCheck(cudaMalloc(&didx, most * sizeof(int)));
  cudaCheck(cudaMalloc(&dright, sizeof(int)));
  cudaCheck(cudaMemcpy(dx, x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice));
  cudaCheck(cudaMemcpy(dtx, tx.data(), tx.size() * sizeof(float), cudaMemcpyHostToDevice));
  cudaCheck(cudaMemcpy(dy, y.data(), y.size() * sizeof(float), cudaMemcpyHostToDevice));
  cudaCheck(cudaMemcpy(dw1, w1.data(), w1.size() * sizeof(float), cudaMemcpyHostToDevice));
  cudaCheck(cudaMemcpy(db1, zeros.data(), kHidden * sizeof(float), cudaMemcpyHostToDevice));
  cudaCheck(cudaMemcpy(dw2, w2.data(), kHidden * sizeof(float), cudaMemcpyHostToDevice));
  cudaCheck(cudaMemcpy(db2, zeros.data(), sizeof(float), cudaMemcpyHostToDevice));

  std::vector<int> order(static_cast<size_t>(rows)), ident(static_cast<size_t>(most));
  for (int i = 0; i < rows; ++i) order[static_cast<size_t>(i)] = i;
  for (int i = 0; i < most; ++i) ident[static_cast<size_t>(i)] = i;
  std::vector<int> idx_host(static_cast<size_t>(rows));
  for (int epoch = 0; epoch < kMaxEpochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    cudaCheck(cudaMemcpy(didx, order.data(), rows * sizeof(int), cudaMemcpyHostToDevice));
    for (int start = 0; start < rows; start += kBatch) {
      const int b = start + kBatch < rows ? kBatch : rows - start;
      hidden_forward<<<b, kHidden>>>(dx, didx + start, b, n, dw1, db1, dh);
      output_and_grad<<<(b + 127) / 128, 128>>>(dh, dw2, db2, dy, didx + start, b, dout, dd, dright);
      backward_update<<<kHidden, n < 32 ? 32 : n>>>(dx, didx + start, b, n, dh, dd, dw1, db1, dw2, db2);
    }
    // Training accuracy over all rows, in the original order.
    cudaCheck(cudaMemcpy(didx, ident.data(), rows * sizeof(int), cudaMemcpyHostToDevice));
    cudaCheck(cudaMemset(dright, 0, sizeof(int)));
    hidden_forward<<<rows, kHidden>>>(dx, didx, rows, n, dw1, db1, dh);
    output_and_grad<<<(rows + 127) / 128, 128>>>(dh, dw2, db2, dy, didx, rows, dout, dd, dright);
    int right = 0;
    cudaCheck(cudaMemcpy(&right, dright, sizeof(int), cudaMemcpyDeviceToHost));
    if (right == rows) {
      std::fprintf(stderr, "baseline.cu: 100%% training accuracy after %d epochs\n", epoch + 1);
      break;
    }
  }
  cudaCheck(cudaGetLastError());

  // Predict the test rows, in order.
  cudaCheck(cudaMemcpy(didx, ident.data(), tm * sizeof(int), cudaMemcpyHostToDevice));
  hidden_forward<<<tm, kHidden>>>(dtx, didx, tm, n, dw1, db1, dh);
  output_only<<<(tm + 127) / 128, 128>>>(dh, dw2, db2, tm, dout);
  cudaCheck(cudaGetLastError());
  std::vector<float> out(static_cast<size_t>(tm));
  cudaCheck(cudaMemcpy(out.data(), dout, tm * sizeof(float), cudaMemcpyDeviceToHost));
  std::FILE* pf = std::fopen("predictions.txt", "w");
  if (!pf) Fail("cannot write predictions.txt");
  for (float o : out) std::fputs(o > 0.f ? "1\n" : "0\n", pf);
  return std::fclose(pf) == 0 ? 0 : 1;
}
