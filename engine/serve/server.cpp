// `ergon serve`: the dashboard over HTTP, run as its own executable
// (ergon-serve). libcpp-httplib loads TLS, zlib and brotli at start-up (~4 ms
// measured), which every other ergon command would pay if it were linked in.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/core.h>
#include <httplib.h>

#include "base/mutex.h"
#include "archive/archive.h"
#include "engine/archive_json.h"
#include "engine/serve/server.h"
#include "engine/serve/api.h"
#include "engine/serve/assets.h"

namespace ergon::engine {
namespace {

// The page loads nothing from elsewhere and runs no inline script: what a
// candidate wrote can at worst be text, even if escaping were ever missed.
constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// The archive connection is one SQLite handle: one request at a time uses it.
class Guarded {
 public:
  Guarded(std::unique_ptr<archive::Archive> a, const std::vector<std::string>& dirs, const std::string& db)
      : archive_(std::move(a)), specs_(dirs, archive_.get()), api_(*archive_, specs_, db) {}
  serve::ApiReply Get(const std::string& path, const serve::Params& p) {
    base::MutexLock hold(&mu_);
    return api_.Get(path, p);
  }
  std::size_t Warm() {
    base::MutexLock hold(&mu_);
    return api_.Warm();
  }

 private:
  base::Mutex mu_;
  std::unique_ptr<archive::Archive> archive_ GUARDED_BY(mu_);
  Specs specs_ GUARDED_BY(mu_);
  serve::Api api_ GUARDED_BY(mu_);
};

// A dashboard that listens beyond loopback asks every request for a token
// printed once at start (as Jupyter does): in the URL (?token=), in the
// cookie that URL then sets for the page's own requests, or as a Bearer
// header for scripts.
std::string NewToken() {
  std::random_device rd;
  std::string t;
  for (int i = 0; i < 4; ++i) t += fmt::format("{:08x}", rd());
  return t;
}

bool SameToken(const std::string& given, const std::string& token) {
  if (given.size() != token.size()) return false;
  unsigned char diff = 0;  // the time taken does not say how much matched
  for (std::size_t i = 0; i < token.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ token[i]);
  return diff == 0;
}

std::string GivenToken(const httplib::Request& req) {
  if (req.has_param("token")) return req.get_param_value("token");
  const std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) == 0) return auth.substr(7);
  const std::string cookies = req.get_header_value("Cookie");
  const auto at = cookies.find("ergon_token=");
  if (at == std::string::npos) return "";
  const auto begin = at + 12, end = cookies.find(';', begin);
  return cookies.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

void Secure(httplib::Response& res) {
  res.set_header("Content-Security-Policy", kPolicy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-store");
}

}  // namespace

int ServeArchive(const ServeArgs& args) {
  auto opened = archive::Archive::OpenReadOnly(args.db);
  if (!opened) {
    fmt::print(stderr, "ergon serve: {}\n", opened.error());
    return 1;
  }
  Guarded guarded(std::move(*opened), args.tasks_dirs, args.db);
  httplib::Server server;
  const std::string token = IsLoopback(args.host) ? "" : NewToken();
  server.set_pre_routing_handler([&token](const httplib::Request& req, httplib::Response& res) {
    if (!token.empty()) {
      if (!SameToken(GivenToken(req), token)) {
        Secure(res);
        res.status = 403;
        res.set_content("{\"error\":\"this dashboard listens beyond loopback: open the URL with ?token= that "
                        "ergon serve printed when it started\"}",
                        "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (req.has_param("token"))
        res.set_header("Set-Cookie", "ergon_token=" + token + "; Path=/; HttpOnly; SameSite=Strict");
    }
    if (req.method == "GET" || req.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
    Secure(res);
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_content("{\"error\":\"read-only: GET only\"}", "application/json");
    return httplib::Server::HandlerResponse::Handled;
  });
  server.Get(R"(/api/.*)", [&](const httplib::Request& req, httplib::Response& res) {
    serve::Params params;
    for (const auto& [k, v] : req.params) params.emplace(k, v);  // the first of a repeated key
    auto reply = guarded.Get(req.path, params);
    Secure(res);
    res.status = reply.status;
    res.set_content(reply.body, "application/json");
  });
  server.Get(R"(/.*)", [](const httplib::Request& req, httplib::Response& res) {
    Secure(res);
    const serve::Asset* asset = serve::FindAsset(req.path == "/" ? "/index.html" : req.path);
    if (!asset) {
      res.status = 404;
      res.set_content("not found\n", "text/plain");
      return;
    }
    res.set_content(std::string(asset->body), std::string(asset->content_type));
  });
  int port = args.port;
  if (port == 0) port = server.bind_to_any_port(args.host);
  else if (!server.bind_to_port(args.host, port)) port = -1;
  if (port < 0) {
    fmt::print(stderr, "ergon serve: cannot listen on {}:{} (in use? --port chooses another; 0 picks a free one)\n",
               args.host, args.port);
    return 1;
  }
  if (!IsLoopback(args.host))
    fmt::print(stderr,
               "ergon serve: WARNING: listening on {} — anyone who can reach this machine on port {} and has the "
               "token below can read the whole archive (sources, prompts, spend). The default 127.0.0.1 and an SSH "
               "tunnel need no token.\n",
               args.host, port);
  // Read the runs' histories before saying where to look: a first page load
  // then costs what a later one does (0.2 to 0.4 s at 100,000 evaluations).
  const auto warm_start = std::chrono::steady_clock::now();
  const std::size_t evaluations = guarded.Warm();
  fmt::print("ergon serve: read {} evaluations in {:.2f} s\n", evaluations,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - warm_start).count());
  fmt::print("ergon serve: http://{}:{}/{} (archive {}, read-only; Ctrl-C stops)\n",
             args.host.find(':') != std::string::npos ? "[" + args.host + "]" : args.host, port,
             token.empty() ? "" : "?token=" + token, args.db);
  std::fflush(stdout);

  // Ctrl-C and SIGTERM stop the server cleanly: a thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.stop();
  });
  const bool ok = server.listen_after_bind();
  if (waiter.joinable()) {
    pthread_kill(waiter.native_handle(), SIGTERM);  // wakes sigwait if the server stopped on its own
    waiter.join();
  }
  return ok ? 0 : 1;
}

}  // namespace ergon::engine
