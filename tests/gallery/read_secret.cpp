// argv: token path; prints the file if it can read it.
#include <cstdio>
int main(int argc, char** argv) {
  if (argc < 3) return 2;
  std::FILE* f = std::fopen(argv[2], "r");
  if (!f) { std::perror("open"); return 1; }
  char buf[256];
  std::size_t n = std::fread(buf, 1, sizeof buf, f);
  std::printf("READ %.*s\n", static_cast<int>(n), buf);
}
