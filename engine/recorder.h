// The run's one writer. A thread that alone owns the archive connection:
// proposers and evaluation slots hand it what to write, as closures, and it
// runs them one at a time, in the order given. Nobody else touches the
// connection while the thread runs, so no archive call is ever made under a
// lock that a proposer or a slot waits on; whoever needs an answer (a new
// candidate's id, a ledger row's id) waits on a future, holding nothing.
//
// Reads do not go through it: each proposer opens its own read-only
// connection (SQLite in WAL mode lets readers run beside the writer).
#pragma once

#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <utility>

#include "archive/archive.h"
#include "base/mutex.h"

namespace ergon::engine {

class Recorder {
 public:
  explicit Recorder(std::unique_ptr<archive::Archive> archive) : archive_(std::move(archive)) {}
  ~Recorder() { Stop(); }
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // The connection, for set-up and the summary: only while the thread is
  // not running (checked: a call while it runs aborts).
  archive::Archive& Direct();

  // The same archive's blob writer, which has a connection of its own and
  // may be used from any thread (Archive::PutBlob).
  archive::Archive& Blobs() { return *archive_; }

  void Start();
  // Runs what is queued, then joins the thread. Idempotent.
  void Stop();

  // Runs `write` on the recorder's thread after everything posted before it.
  void Post(std::function<void(archive::Archive&)> write);

  // As Post, and hands back what `write` returns.
  template <class F>
  auto Call(F write) -> std::future<decltype(write(std::declval<archive::Archive&>()))> {
    using R = decltype(write(std::declval<archive::Archive&>()));
    auto task = std::make_shared<std::packaged_task<R(archive::Archive&)>>(std::move(write));
    auto result = task->get_future();
    Post([task](archive::Archive& a) { (*task)(a); });
    return result;
  }

 private:
  void Loop();

  base::Mutex mu_;
  base::CondVar cv_{&mu_};
  std::deque<std::function<void(archive::Archive&)>> inbox_ GUARDED_BY(mu_);
  bool running_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::unique_ptr<archive::Archive> archive_;  // the thread's alone while it runs
  std::thread thread_;
};

}  // namespace ergon::engine
