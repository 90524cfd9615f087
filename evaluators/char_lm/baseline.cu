// char_lm baseline learner, CUDA variant: the same model and training as
// baseline.cpp (its CPU reference): kContext characters each select a learned
// vector of kHidden numbers, their sum goes through tanh, a linear layer and
// softmax give the next character; SGD one character at a time.
//
// nvcc -O2 -std=c++17 -o baseline baseline.cu
//
// The model (~62 KB) is far too small to fill a GPU: one thread block does
// everything, one thread per hidden unit or per character of the vocabulary.
// Training is one launch that walks the whole text (no per-step launch
// cost); prediction is one launch per character (the previous character's
// SGD step, then the next forward pass and argmax) and a 4-byte copy back,
// because the referee reveals a character only after the prediction: that
// round trip is what this learner's energy is mostly made of.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

constexpr int kContext = 4;          // KNOB context 4 range 1 12 int down
constexpr int kHidden = 32;          // KNOB hidden 32 range 4 96 int log down
constexpr int kEpochs = 1;           // KNOB epochs 1 range 1 8 int down
constexpr int kTrainBytes = 100000;  // KNOB train_bytes 100000 range 5000 300000 int log down
constexpr float kLr = 0.02f;         // KNOB lr 0.02 range 0.001 0.5 log
constexpr int kOnline = 1;           // KNOB online 1 range 0 1 int down
constexpr unsigned kSeed = 1;
constexpr int kThreads = 128;        // >= the vocabulary (at most 98 here) and >= kHidden

#define cudaCheck(call)                                                                                \
  do {                                                                                                 \
    cudaError_t err_ = (call);                                                                         \
    if (err_ != cudaSuccess) {                                                                         \
      std::fprintf(stderr, "%s:%d: CUDA error: %s\n", __FILE__, __LINE__, cudaGetErrorString(err_));   \
      std::exit(1);                                                                                    \
    }                                                                                                  \
  } while (0)

struct Model {
  float *E, *b1, *W, *b2;  // [kContext][V][H], [H], [V][H], [V]
  float *h, *logits;       // the last forward pass, kept for its SGD step
  int* prediction;
  int V;
};

// h = tanh(b1 + sum over context of E[c][ctx[c]]); logits = W h + b2.
__device__ void Forward(const Model& m, const int* ctx) {
  const int t = threadIdx.x;
  if (t < kHidden) {
    float s = m.b1[t];
    for (int c = 0; c < kContext; ++c) s += m.E[(c * m.V + ctx[c]) * kHidden + t];
    m.h[t] = tanhf(s);
  }
  __syncthreads();
  if (t < m.V) {
    float s = m.b2[t];
    for (int j = 0; j < kHidden; ++j) s += m.W[t * kHidden + j] * m.h[j];
    m.logits[t] = s;
  }
  __syncthreads();
}

// One SGD step on -log softmax(logits)[target], after Forward(ctx).
__device__ void Backward(const Model& m, const int* ctx, int target, float lr) {
  __shared__ float d[kThreads];
  __shared__ float dh[kHidden];
  const int t = threadIdx.x;
  float mx = m.logits[0];
  for (int v = 1; v < m.V; ++v) mx = fmaxf(mx, m.logits[v]);
  float sum = 0;
  for (int v = 0; v < m.V; ++v) sum += expf(m.logits[v] - mx);
  if (t < m.V) d[t] = (expf(m.logits[t] - mx) / sum - (t == target ? 1.0f : 0.0f)) * lr;
  __syncthreads();
  if (t < kHidden) {
    float g = 0;
    for (int v = 0; v < m.V; ++v) g += d[v] * m.W[v * kHidden + t];
    dh[t] = g * (1.0f - m.h[t] * m.h[t]);
  }
  __syncthreads();
  if (t < m.V) {
    for (int j = 0; j < kHidden; ++j) m.W[t * kHidden + j] -= d[t] * m.h[j];
    m.b2[t] -= d[t];
  }
  if (t < kHidden) {
    m.b1[t] -= dh[t];
    for (int c = 0; c < kContext; ++c) m.E[(c * m.V + ctx[c]) * kHidden + t] -= dh[t];
  }
  __syncthreads();
}

__global__ void TrainKernel(Model m, const int* text, int n, int epochs, float lr) {
  int ctx[kContext];
  for (int e = 0; e < epochs; ++e) {
    for (int c = 0; c < kContext; ++c) ctx[c] = 0;
    for (int i = 0; i < n; ++i) {
      Forward(m, ctx);
      Backward(m, ctx, text[i], lr);
      for (int c = kContext - 1; c > 0; --c) ctx[c] = ctx[c - 1];
      ctx[0] = text[i];
    }
  }
}

struct Context {
  int c[kContext];
};

// The previous character's SGD step (target >= 0, after the forward pass on
// `before`), then the forward pass on `now` and its argmax.
__global__ void PredictKernel(Model m, Context before, int target, Context now, float lr) {
  if (target >= 0) Backward(m, before.c, target, lr);
  Forward(m, now.c);
  if (threadIdx.x == 0) {
    int best = 0;
    for (int v = 1; v < m.V; ++v)
      if (m.logits[v] > m.logits[best]) best = v;
    *m.prediction = best;
  }
}

static void Fail(const char* what) {
  std::fprintf(stderr, "baseline.cu: %s\n", what);
  std::exit(1);
}

static float* Upload(const std::vector<float>& x) {
  float* d;
  cudaCheck(cudaMalloc(&d, x.size() * sizeof(float)));
  cudaCheck(cudaMemcpy(d, x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice));
  return d;
}

int main() {
  std::FILE* f = std::fopen("train.txt", "rb");
  if (!f) Fail("cannot open train.txt");
  std::vector<unsigned char> text(kTrainBytes);
  text.resize(std::fread(text.data(), 1, text.size(), f));
  std::fclose(f);

  int index[256] = {0};
  std::vector<unsigned char> byte_of = {' '};
  for (unsigned char c : text)
    if (!index[c]) {
      index[c] = static_cast<int>(byte_of.size());
      byte_of.push_back(c);
    }
  const int V = static_cast<int>(byte_of.size());
  if (V > kThreads) Fail("vocabulary larger than the thread block");

  // The same initial weights as baseline.cpp (same generator, same order).
  std::mt19937 rng(kSeed);
  std::normal_distribution<float> init(0.0f, 0.1f);
  std::vector<float> E(static_cast<size_t>(kContext) * V * kHidden), W(static_cast<size_t>(V) * kHidden);
  for (auto& w : E) w = init(rng);
  for (auto& w : W) w = init(rng);
  Model m;
  m.V = V;
  m.E = Upload(E);
  m.W = Upload(W);
  m.b1 = Upload(std::vector<float>(kHidden, 0.0f));
  m.b2 = Upload(std::vector<float>(V, 0.0f));
  m.h = Upload(std::vector<float>(kHidden, 0.0f));
  m.logits = Upload(std::vector<float>(V, 0.0f));
  cudaCheck(cudaMalloc(&m.prediction, sizeof(int)));

  std::vector<int> ids(text.size());
  for (size_t i = 0; i < text.size(); ++i) ids[i] = index[text[i]];
  int* d_text;
  cudaCheck(cudaMalloc(&d_text, ids.size() * sizeof(int) + 1));
  cudaCheck(cudaMemcpy(d_text, ids.data(), ids.size() * sizeof(int), cudaMemcpyHostToDevice));
  TrainKernel<<<1, kThreads>>>(m, d_text, static_cast<int>(ids.size()), kEpochs, kLr);
  cudaCheck(cudaGetLastError());
  cudaCheck(cudaDeviceSynchronize());

  long n = 0;
  if (std::scanf("%ld", &n) != 1) Fail("no character count on stdin");
  std::getchar();
  Context before{}, now{};
  int target = -1;
  for (long i = 0; i < n; ++i) {
    PredictKernel<<<1, kThreads>>>(m, before, kOnline ? target : -1, now, kLr);
    int best = 0;
    cudaCheck(cudaMemcpy(&best, m.prediction, sizeof(int), cudaMemcpyDeviceToHost));
    std::putchar(byte_of[best]);
    std::fflush(stdout);
    const int ch = std::getchar();
    if (ch == EOF) break;
    target = index[ch];
    before = now;
    for (int c = kContext - 1; c > 0; --c) now.c[c] = now.c[c - 1];
    now.c[0] = target;
  }
  return 0;
}
