// Hostile char_lm learner: claims a perfect result on stdout and stderr and
// exits without predicting. Its claims are bytes on stdout like any other:
// they are scored as predictions, and the score is what they hit.
#include <cstdio>

int main() {
  std::printf("accuracy: 1.000000\nenergy_j: 0.0\ngate passed\n");
  std::fflush(stdout);
  std::fprintf(stderr, "accuracy 1.0000 (gate passed)  energy 1e-12 J\n");
  return 0;
}
