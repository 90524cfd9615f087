// The parent exits at once; a detached child waits, then leaves a file in the
// work dir to prove it survived.
#include <cstdio>
#include <unistd.h>
int main() {
  if (fork() == 0) {
    setsid();
    if (fork() == 0) {
      sleep(1);
      std::FILE* f = std::fopen("survived.txt", "w");
      if (f) std::fclose(f);
      for (;;) sleep(1000);
    }
    for (;;) sleep(1000);
  }
  std::printf("parent done\n");
}
