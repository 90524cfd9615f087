// char_lm reference learner: a count-based character n-gram model, not a
// neural one. For each context of up to kOrder - 1 previous characters it
// counts the characters that followed, and predicts the most frequent
// follower of the longest context it has seen (backing off to shorter ones).
// It keeps counting while it predicts. Kept beside the baseline so the
// README can say what a neural learner must beat, in accuracy and in joules.
//
// Counts live in one open-addressing table of (context, next) -> count, and
// one of context -> (best next, its count), so the argmax is kept as it
// changes instead of searched for.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

constexpr int kOrder = 5;            // KNOB order 5 range 2 8 int down
constexpr int kTrainBytes = 300000;  // KNOB train_bytes 300000 range 5000 300000 int log down
constexpr int kTableBits = 21;       // KNOB table_bits 21 range 14 24 int down

struct Slot {
  std::uint64_t key = 0;  // 0 = empty
  std::uint32_t count = 0, best = 0;
};

static std::vector<Slot> table(std::size_t{1} << kTableBits);

// The slot for key (never 0), claimed if new; nullptr when the table is full.
static Slot* Find(std::uint64_t key) {
  const std::size_t mask = table.size() - 1;
  std::size_t i = (key * 0x9e3779b97f4a7c15ull) >> (64 - kTableBits);
  for (std::size_t probes = 0; probes < table.size(); ++probes, i = (i + 1) & mask) {
    if (table[i].key == key) return &table[i];
    if (table[i].key == 0) {
      table[i].key = key;
      return &table[i];
    }
  }
  return nullptr;
}

// Context keys: the order (1..kOrder-1, so no two orders collide) in the top
// byte, the previous characters below it; pair keys add the next character.
static std::uint64_t ContextKey(std::uint64_t history, int len) {
  const std::uint64_t mask = len >= 7 ? ~0ull >> 8 : (1ull << (8 * len)) - 1;
  return (static_cast<std::uint64_t>(len) << 56) | (history & mask);
}

static void Count(std::uint64_t history, unsigned char next) {
  for (int len = 0; len < kOrder; ++len) {
    const std::uint64_t ctx = ContextKey(history, len) | (1ull << 63);
    Slot* pair = Find((ctx * 257 + next + 1) & ~(1ull << 63));
    Slot* best = Find(ctx);
    if (!pair || !best) return;
    ++pair->count;
    if (pair->count > best->count) {
      best->count = pair->count;
      best->best = next;
    }
  }
}

static int Predict(std::uint64_t history, long seen) {
  for (int len = kOrder - 1; len >= 0; --len) {
    if (len > seen) continue;
    const std::uint64_t ctx = ContextKey(history, len) | (1ull << 63);
    Slot* s = Find(ctx);
    if (s && s->count) return static_cast<int>(s->best);
  }
  return ' ';
}

int main() {
  std::FILE* f = std::fopen("train.txt", "rb");
  if (!f) {
    std::fprintf(stderr, "ngram: cannot open train.txt\n");
    return 1;
  }
  std::vector<unsigned char> text(kTrainBytes);
  text.resize(std::fread(text.data(), 1, text.size(), f));
  std::fclose(f);
  std::uint64_t history = 0;
  long seen = 0;
  for (unsigned char c : text) {
    Count(history, c);
    history = (history << 8) | c;
    ++seen;
  }
  long n = 0;
  if (std::scanf("%ld", &n) != 1) return 1;
  std::getchar();
  history = 0;
  seen = 0;
  for (long i = 0; i < n; ++i) {
    std::putchar(Predict(history, seen));
    std::fflush(stdout);
    const int c = std::getchar();
    if (c == EOF) break;
    Count(history, static_cast<unsigned char>(c));
    history = (history << 8) | static_cast<unsigned>(c);
    ++seen;
  }
  return 0;
}
