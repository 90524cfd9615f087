// `ergon serve`: the dashboard over HTTP, run as its own executable
// (ergon-serve). libcpp-httplib loads TLS, zlib and brotli at start-up (~4 ms
// measured), which every other ergon command would pay if it were linked in.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include <fmt/core.h>
#include <httplib.h>

#include "archive/archive.h"
#include "engine/archive_json.h"
#include "engine/serve/server.h"
#include "engine/serve/api.h"
#include "engine/serve/assets.h"
#include "engine/thread_annotations.h"

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
      : archive_(std::move(a)), specs_(dirs), api_(*archive_, specs_, db) {}
  serve::ApiReply Get(const std::string& path, const serve::Params& p) {
    std::lock_guard<std::mutex> hold(mu_);
    return api_.Get(path, p);
  }
  std::size_t Warm() {
    std::lock_guard<std::mutex> hold(mu_);
    return api_.Warm();
  }

 private:
  std::mutex mu_;
  std::unique_ptr<archive::Archive> archive_ GUARDED_BY(mu_);
  Specs specs_ GUARDED_BY(mu_);
  serve::Api api_ GUARDED_BY(mu_);
};

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
  server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
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
               "ergon serve: WARNING: listening on {} — anyone who can reach this machine on port {} can read the "
               "whole archive (sources, prompts, spend). Use the default 127.0.0.1 and an SSH tunnel instead.\n",
               args.host, port);
  // Read the runs' histories before saying where to look: a first page load
  // then costs what a later one does (0.2 to 0.4 s at 100,000 evaluations).
  const auto warm_start = std::chrono::steady_clock::now();
  const std::size_t evaluations = guarded.Warm();
  fmt::print("ergon serve: read {} evaluations in {:.2f} s\n", evaluations,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - warm_start).count());
  fmt::print("ergon serve: http://{}:{}/ (archive {}, read-only; Ctrl-C stops)\n",
             args.host.find(':') != std::string::npos ? "[" + args.host + "]" : args.host, port, args.db);
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
