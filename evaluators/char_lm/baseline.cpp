// char_lm baseline learner: a small neural character model, after Bengio et
// al.'s neural probabilistic language model (2003), shrunk to fit 2 cores.
//
// The previous kContext characters each select a learned vector of kHidden
// numbers (one table per position: the embedding and the first layer folded
// into one lookup); their sum goes through tanh, and one linear layer with a
// softmax gives a distribution over the characters seen in training. Plain
// SGD on cross-entropy, one character at a time, over the first
// kTrainBytes of train.txt for kEpochs passes; then, while predicting, it
// keeps learning from each revealed character (kOnline).
//
// Protocol (predict before observe): read "N\n" on stdin; N times write the
// predicted byte to stdout, flush, read the true byte from stdin.
//
// Napkin maths per training character: the output layer is V x H = ~96 x 32
// = 3,072 multiply-adds forward and twice that backward, plus V exps; the
// context sum is C x H = 128 adds. ~10 k flops a character, so 100 kB of
// text is ~1 G flops. The weights (V x H + C x V x H floats = 62 KB) sit in
// the simulated 64 KB L1, just.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

constexpr int kContext = 4;          // KNOB context 4 range 1 12 int down
constexpr int kHidden = 32;          // KNOB hidden 32 range 4 256 int log down
constexpr int kEpochs = 1;           // KNOB epochs 1 range 1 8 int down
constexpr int kTrainBytes = 100000;  // KNOB train_bytes 100000 range 5000 300000 int log down
constexpr double kLr = 0.02;         // KNOB lr 0.02 range 0.001 0.5 log
constexpr int kOnline = 1;           // KNOB online 1 range 0 1 int down
constexpr unsigned kSeed = 1;        // the learner's own seed

static void Fail(const char* what) {
  std::fprintf(stderr, "baseline: %s\n", what);
  std::exit(1);
}

int main() {
  std::FILE* f = std::fopen("train.txt", "rb");
  if (!f) Fail("cannot open train.txt");
  std::vector<unsigned char> text(kTrainBytes);
  text.resize(std::fread(text.data(), 1, text.size(), f));
  std::fclose(f);

  // Vocabulary: the bytes seen in training; slot 0 (a space) stands for any other.
  int index[256] = {0};
  std::vector<unsigned char> byte_of = {' '};
  for (unsigned char c : text)
    if (!index[c]) {
      index[c] = static_cast<int>(byte_of.size());
      byte_of.push_back(c);
    }
  const int V = static_cast<int>(byte_of.size());
  constexpr int H = kHidden;  // a constant trip count lets -O2 vectorise the inner loops

  std::mt19937 rng(kSeed);
  std::normal_distribution<float> init(0.0f, 0.1f);
  std::vector<float> E(static_cast<size_t>(kContext) * V * H), b1(H, 0.0f), W(static_cast<size_t>(V) * H), b2(V, 0.0f);
  for (auto& w : E) w = init(rng);
  for (auto& w : W) w = init(rng);
  std::vector<float> h(H), dh(H), p(V);
  int ctx[kContext] = {0};
  const float lr = static_cast<float>(kLr);

  auto forward = [&] {
    for (int j = 0; j < H; ++j) h[j] = b1[j];
    for (int c = 0; c < kContext; ++c) {
      const float* e = &E[(static_cast<size_t>(c) * V + ctx[c]) * H];
      for (int j = 0; j < H; ++j) h[j] += e[j];
    }
    for (int j = 0; j < H; ++j) h[j] = std::tanh(h[j]);
    for (int v = 0; v < V; ++v) {
      const float* w = &W[static_cast<size_t>(v) * H];
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;  // four sums: the compiler may not reorder one
      for (int j = 0; j + 3 < H; j += 4) {
        s0 += w[j] * h[j];
        s1 += w[j + 1] * h[j + 1];
        s2 += w[j + 2] * h[j + 2];
        s3 += w[j + 3] * h[j + 3];
      }
      p[v] = b2[v] + (s0 + s1) + (s2 + s3);
    }
  };
  auto argmax = [&] {
    int best = 0;
    for (int v = 1; v < V; ++v)
      if (p[v] > p[best]) best = v;
    return best;
  };
  // One SGD step on -log softmax(p)[target]; p holds the logits.
  auto backward = [&](int target) {
    float mx = p[0];
    for (int v = 1; v < V; ++v) mx = p[v] > mx ? p[v] : mx;
    float sum = 0;
    for (int v = 0; v < V; ++v) {
      p[v] = std::exp(p[v] - mx);
      sum += p[v];
    }
    for (int j = 0; j < H; ++j) dh[j] = 0;
    for (int v = 0; v < V; ++v) {
      const float d = (p[v] / sum - (v == target ? 1.0f : 0.0f)) * lr;
      float* __restrict w = &W[static_cast<size_t>(v) * H];
      float* __restrict g = dh.data();
      const float* __restrict x = h.data();
      for (int j = 0; j < H; ++j) {
        g[j] += d * w[j];
        w[j] -= d * x[j];
      }
      b2[v] -= d;
    }
    for (int j = 0; j < H; ++j) dh[j] *= 1.0f - h[j] * h[j];
    for (int j = 0; j < H; ++j) b1[j] -= dh[j];
    for (int c = 0; c < kContext; ++c) {
      float* e = &E[(static_cast<size_t>(c) * V + ctx[c]) * H];
      for (int j = 0; j < H; ++j) e[j] -= dh[j];
    }
  };
  auto push = [&](int x) {
    for (int c = kContext - 1; c > 0; --c) ctx[c] = ctx[c - 1];
    ctx[0] = x;
  };

  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    for (int c = 0; c < kContext; ++c) ctx[c] = 0;
    for (unsigned char ch : text) {
      forward();
      backward(index[ch]);
      push(index[ch]);
    }
  }

  long n = 0;
  if (std::scanf("%ld", &n) != 1) Fail("no character count on stdin");
  std::getchar();  // the newline
  for (int c = 0; c < kContext; ++c) ctx[c] = 0;
  for (long i = 0; i < n; ++i) {
    forward();
    std::putchar(byte_of[argmax()]);
    std::fflush(stdout);
    const int ch = std::getchar();
    if (ch == EOF) break;
    if (kOnline) backward(index[ch]);
    push(index[ch]);
  }
  return 0;
}
