#include "engine/recorder.h"

#include <cstdio>
#include <cstdlib>

namespace ergon::engine {

archive::Archive& Recorder::Direct() {
  {
    base::MutexLock l(&mu_);
    if (running_) {
      std::fputs("ergon: internal error: the archive was used directly while its recorder runs\n", stderr);
      std::abort();
    }
  }
  return *archive_;
}

void Recorder::Start() {
  base::MutexLock l(&mu_);
  if (running_) return;
  running_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Recorder::Stop() {
  {
    base::MutexLock l(&mu_);
    if (!running_) return;
    stopping_ = true;
    cv_.SignalAll();
  }
  thread_.join();
  base::MutexLock l(&mu_);
  running_ = false;
}

void Recorder::Post(std::function<void(archive::Archive&)> write) {
  {
    base::MutexLock l(&mu_);
    if (running_) {
      inbox_.push_back(std::move(write));
      cv_.Signal();
      return;
    }
  }
  // Set-up and summary: no thread to hand it to, and nobody else writing.
  write(*archive_);
}

void Recorder::Loop() {
  for (;;) {
    std::function<void(archive::Archive&)> next;
    {
      base::MutexLock l(&mu_);
      while (inbox_.empty() && !stopping_) cv_.Wait();
      if (inbox_.empty()) return;  // stopping, and everything is written
      next = std::move(inbox_.front());
      inbox_.pop_front();
    }
    next(*archive_);
  }
}

}  // namespace ergon::engine
