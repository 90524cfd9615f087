// Hostile char_lm learner: writes all N predictions (every one an 'e') at
// once, before reading anything, then swallows the revealed text. It learns
// nothing from the truth; it is scored on exactly the bytes it wrote.
#include <cstdio>
#include <string>

int main() {
  long n = 0;
  if (std::scanf("%ld", &n) != 1) return 1;
  std::getchar();
  const std::string guesses(static_cast<size_t>(n), 'e');
  std::fwrite(guesses.data(), 1, guesses.size(), stdout);
  std::fflush(stdout);
  while (std::getchar() != EOF) {
  }
  return 0;
}
