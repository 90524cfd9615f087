// Must pass the thread-safety check: the guarded field is read with its lock.
#include "base/mutex.h"

struct Counter {
  ergon::base::Mutex mu;
  int n GUARDED_BY(mu) = 0;
};

int Read(Counter& c) {
  ergon::base::MutexLock l(&c.mu);
  return c.n;
}

int ReadHeld(Counter& c) REQUIRES(c.mu) { return c.n; }
