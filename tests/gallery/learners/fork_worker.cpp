// Does its (real, GF(2)) learning in a child and waits for it: allowed, and
// the child's work must be counted.
#include <sys/wait.h>
#include <unistd.h>
int gf2_main();
int main() {
  pid_t pid = fork();
  if (pid == 0) _exit(gf2_main());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
#define main gf2_main
#include "GF2_SOURCE"
