#include <malloc.h>

#include "engine/cli.h"

int main(int argc, char** argv) {
  // Large buffers (a generator's printed program, a transformed source: up
  // to ~10 MB each, made and dropped every evaluation) get pages of their
  // own and give them back when freed. Left to itself glibc raises this
  // threshold after the first such free, and the buffers then fragment the
  // heap: a 80-candidate dally_parity run peaked at 807 MB that way, 514 MB
  // with this (ergon_bench night measures it).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  return ergon::engine::Main(argc, argv);
}
