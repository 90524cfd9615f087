// Hostile char_lm learner: the parent does nothing; a forked helper counts
// bigrams over train.txt many times over (the expensive part) and plays the
// protocol on the stdin and stdout it inherited. The helper's work is the
// learner's work: it must be in the energy.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

constexpr bool kFork = true;  // the test builds it once without the fork, to compare
constexpr int kPasses = 20;

static long counts[256][256];

static int Helper() {
  for (int pass = 0; pass < kPasses; ++pass) {
    std::FILE* f = std::fopen("train.txt", "rb");
    if (!f) return 1;
    int prev = '\n', c;
    while ((c = std::fgetc(f)) != EOF) {
      ++counts[prev][c];
      prev = c;
    }
    std::fclose(f);
  }
  long n = 0;
  if (std::scanf("%ld", &n) != 1) return 1;
  std::getchar();
  int prev = '\n', c;
  for (long i = 0; i < n; ++i) {
    int best = ' ';
    for (int b = 0; b < 256; ++b)
      if (counts[prev][b] > counts[prev][best]) best = b;
    std::putchar(best);
    std::fflush(stdout);
    if ((c = std::getchar()) == EOF) break;
    prev = c;
  }
  return 0;
}

int main() {
  if (!kFork) return Helper();
  const pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) return Helper();
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
