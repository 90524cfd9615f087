// Hostile char_lm learner: predicts ten characters honestly, then wants the
// next two characters before its eleventh prediction. The referee reveals a
// character only after its prediction, so the second never comes: the
// learner stalls and is cut off, scored on its eleven predictions.
#include <unistd.h>

#include <cstdio>

int main() {
  long n = 0;
  if (std::scanf("%ld", &n) != 1) return 1;
  std::getchar();
  char c;
  for (int i = 0; i < 10; ++i) {
    if (::write(1, " ", 1) != 1 || ::read(0, &c, 1) != 1) return 1;
  }
  if (::write(1, " ", 1) != 1) return 1;
  char ahead[2];
  size_t got = 0;
  while (got < 2) {
    const ssize_t r = ::read(0, ahead + got, 2 - got);
    if (r <= 0) return 1;
    got += static_cast<size_t>(r);
  }
  std::fprintf(stderr, "read ahead: got %c%c\n", ahead[0], ahead[1]);
  return 0;
}
