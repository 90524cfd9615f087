// Test helper: a real headless Chromium driven over the DevTools protocol on
// a pipe (--remote-debugging-pipe: JSON messages ended by a NUL byte on fds
// 3 and 4), so no WebSocket library and no npm download is needed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace ergon::testing {

class Chromium {
 public:
  // Starts /usr/bin/chromium (or $ERGON_CHROMIUM) on about:blank with a fresh
  // profile; ok() says whether it came up, error() why not.
  Chromium();
  ~Chromium();
  Chromium(const Chromium&) = delete;
  Chromium& operator=(const Chromium&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // One DevTools call on the page; the result object, or {"error": ...}.
  nlohmann::json Call(const std::string& method, const nlohmann::json& params = nlohmann::json::object(),
                      std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void Navigate(const std::string& url);
  // The value of a JavaScript expression (promises awaited), or null with
  // last_exception() set.
  nlohmann::json Eval(const std::string& expression);
  const std::string& last_exception() const { return exception_; }
  // Polls `expression` until it is true or the time is up.
  bool WaitFor(const std::string& expression, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // Writes a PNG of the viewport; false on failure.
  bool Screenshot(const std::string& path);

 private:
  bool Send(const nlohmann::json& message);
  // Reads one message, or null json when the time is up or the pipe closed.
  nlohmann::json Read(std::chrono::steady_clock::time_point deadline);

  pid_t pid_ = -1;
  int to_browser_ = -1, from_browser_ = -1;
  std::string buffer_, profile_, session_, error_, exception_;
  int next_id_ = 1;
};

}  // namespace ergon::testing
