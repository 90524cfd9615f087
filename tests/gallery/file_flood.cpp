#include <cstdio>
int main() {
  static char buf[1 << 16];
  std::FILE* f = std::fopen("big.bin", "wb");
  if (!f) return 1;
  for (;;) std::fwrite(buf, 1, sizeof buf, f);
}
