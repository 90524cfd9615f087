// A bigram learner for char_lm: predicts the character that most often
// followed the previous one in train.txt. The task's gate is calibrated so
// that this fails it (tests/char_lm_test.cpp).
#include <cstdio>

static long counts[256][256];

int main() {
  std::FILE* f = std::fopen("train.txt", "rb");
  if (!f) return 1;
  int prev = '\n', c;
  while ((c = std::fgetc(f)) != EOF) {
    ++counts[prev][c];
    prev = c;
  }
  std::fclose(f);
  long n = 0;
  if (std::scanf("%ld", &n) != 1) return 1;
  std::getchar();
  prev = '\n';
  for (long i = 0; i < n; ++i) {
    int best = ' ';
    for (int b = 0; b < 256; ++b)
      if (counts[prev][b] > counts[prev][best]) best = b;
    std::putchar(best);
    std::fflush(stdout);
    if ((c = std::getchar()) == EOF) break;
    ++counts[prev][c];
    prev = c;
  }
  return 0;
}
