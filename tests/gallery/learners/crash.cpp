// Crashes half way.
#include <cstdio>
int main(int argc, char**) {
  std::FILE* p = std::fopen("predictions.txt", "w");
  std::fputs("1\n", p);
  volatile int* null = nullptr;
  if (argc > 0) *null = 1;
}
