// Hides its CPU work in a forked child and exits without waiting for it.
#include <unistd.h>
int main() {
  if (fork() == 0) {
    volatile unsigned long x = 0;
    for (;;) x = x + 1;  // burns until the sandbox kills it
  }
  usleep(600000);  // the child works meanwhile; the parent itself burns nothing
  return 0;
}
