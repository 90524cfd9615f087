#include <cstdio>
int main() {
  std::fprintf(stderr, "failing on purpose\n");
  return 3;
}
