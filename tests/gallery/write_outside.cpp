// argv: token path...; tries to create each path, reports which worked.
#include <cstdio>
int main(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    std::FILE* f = std::fopen(argv[i], "w");
    if (f && std::fputs("pwned\n", f) >= 0 && std::fclose(f) == 0) std::printf("WROTE %s\n", argv[i]);
    else std::printf("denied %s\n", argv[i]);
  }
}
