#include <cstdio>
int main() {
  static char buf[1 << 16];
  for (auto& c : buf) c = 'x';
  for (;;) std::fwrite(buf, 1, sizeof buf, stdout);
}
