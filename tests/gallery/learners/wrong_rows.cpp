// Writes predictions for the wrong number of rows.
#include <cstdio>
int main() {
  std::FILE* p = std::fopen("predictions.txt", "w");
  for (int i = 0; i < 10; ++i) std::fputs("1\n", p);
  std::fclose(p);
}
