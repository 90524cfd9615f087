// Must FAIL the thread-safety check: the guarded field is read without its
// lock (tests/thread_safety/check.py asserts clang refuses it).
#include "base/mutex.h"

struct Counter {
  ergon::base::Mutex mu;
  int n GUARDED_BY(mu) = 0;
};

int Read(Counter& c) { return c.n; }
