#include "tests/browser/chromium.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace ergon::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string Base64Decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, acc = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace

Chromium::Chromium() {
  const char* exe = std::getenv("ERGON_CHROMIUM");
  const std::string program = exe && *exe ? exe : "/usr/bin/chromium";
  if (::access(program.c_str(), X_OK) != 0) {
    error_ = program + " is missing: `make deps` installs Debian's chromium";
    return;
  }
  char tmpl[] = "/tmp/ergon-chromium-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    error_ = "mkdtemp failed";
    return;
  }
  profile_ = tmpl;
  int in[2], out[2];  // in: we write, the browser reads fd 3; out: it writes fd 4
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    error_ = "pipe failed";
    return;
  }
  std::vector<std::string> args = {
      program, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
      "--no-proxy-server", "--window-size=1280,900", "--remote-debugging-pipe", "--user-data-dir=" + profile_,
      "about:blank"};
  pid_ = ::fork();
  if (pid_ == 0) {
    // Out of the way first (a pipe end may itself be fd 3 or 4), then into
    // place; dup2 leaves the copies open across exec.
    int r = ::fcntl(in[0], F_DUPFD_CLOEXEC, 10), w = ::fcntl(out[1], F_DUPFD_CLOEXEC, 10);
    ::dup2(r, 3);
    ::dup2(w, 4);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  // A browser that dies must fail the test with a message, not kill it.
  ::signal(SIGPIPE, SIG_IGN);
  to_browser_ = in[1];
  from_browser_ = out[0];
  if (pid_ < 0) {
    error_ = "fork failed";
    return;
  }
  // A page target of our own, attached in flat mode: later calls carry its session.
  json target = Call("Target.createTarget", {{"url", "about:blank"}}, std::chrono::seconds(30));
  if (!target.contains("targetId")) {
    error_ = "chromium did not answer on its DevTools pipe: " + target.dump();
    return;
  }
  json attached = Call("Target.attachToTarget", {{"targetId", target["targetId"]}, {"flatten", true}});
  if (!attached.contains("sessionId")) {
    error_ = "cannot attach to the page: " + attached.dump();
    return;
  }
  session_ = attached["sessionId"].get<std::string>();
  Call("Page.enable");
}

Chromium::~Chromium() {
  if (pid_ > 0) {
    Call("Browser.close", json::object(), std::chrono::seconds(3));
    auto deadline = Clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (to_browser_ >= 0) ::close(to_browser_);
  if (from_browser_ >= 0) ::close(from_browser_);
  if (!profile_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(profile_, ec);
  }
}

bool Chromium::Send(const json& message) {
  std::string text = message.dump();
  text.push_back('\0');
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(to_browser_, text.data() + off, text.size() - off);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

json Chromium::Read(Clock::time_point deadline) {
  for (;;) {
    if (auto end = buffer_.find('\0'); end != std::string::npos) {
      std::string one = buffer_.substr(0, end);
      buffer_.erase(0, end + 1);
      return json::parse(one, nullptr, false);
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return nullptr;
    pollfd p{from_browser_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[65536];
    ssize_t n = ::read(from_browser_, buf, sizeof buf);
    if (n <= 0) return nullptr;
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

json Chromium::Call(const std::string& method, const json& params, std::chrono::milliseconds timeout) {
  if (from_browser_ < 0) return {{"error", "no browser"}};
  const int id = next_id_++;
  json message = {{"id", id}, {"method", method}, {"params", params}};
  if (!session_.empty() && method.rfind("Target.", 0) != 0 && method.rfind("Browser.", 0) != 0)
    message["sessionId"] = session_;
  if (!Send(message)) return {{"error", "cannot write to chromium"}};
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    json reply = Read(deadline);
    if (reply.is_null()) return {{"error", "no answer to " + method}};
    if (reply.is_discarded()) continue;
    if (reply.contains("id") && reply["id"] == id)  // events (no id) are not needed here
      return reply.contains("result") ? reply["result"] : json{{"error", reply.value("error", json()).dump()}};
  }
}

void Chromium::Navigate(const std::string& url) { Call("Page.navigate", {{"url", url}}); }

json Chromium::Eval(const std::string& expression) {
  exception_.clear();
  json r = Call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}});
  if (r.contains("exceptionDetails")) {
    exception_ = r["exceptionDetails"].dump();
    return nullptr;
  }
  if (r.contains("error")) {
    exception_ = r["error"].dump();
    return nullptr;
  }
  return r.contains("result") && r["result"].contains("value") ? r["result"]["value"] : json(nullptr);
}

bool Chromium::WaitFor(const std::string& expression, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    json v = Eval("!!(" + expression + ")");
    if (v.is_boolean() && v.get<bool>()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

bool Chromium::Screenshot(const std::string& path) {
  json r = Call("Page.captureScreenshot", {{"format", "png"}, {"captureBeyondViewport", true}});
  if (!r.contains("data")) return false;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << Base64Decode(r["data"].get<std::string>());
  return true;
}

}  // namespace ergon::testing
