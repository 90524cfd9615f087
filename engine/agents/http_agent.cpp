// OpenAI-compatible chat completions and Anthropic Messages over libcurl:
// timeouts, retries with exponential backoff and jitter on 429/5xx/timeouts
// (honouring Retry-After), a fatal error on 401/403/404, usage and cost from
// the response, and a pre-flight check that the prompt fits the context.
#include "engine/agents/curl_api.h"

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "engine/agents/agent.h"
#include "engine/agents/reply.h"

namespace ergon::engine {
namespace {
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct HttpResult {
  long status = 0;
  std::string body;
  CURLcode code = CURLE_OK;
  double retry_after_s = -1;
};

std::size_t Append(char* p, std::size_t size, std::size_t n, void* user) {
  auto* s = static_cast<std::string*>(user);
  const std::size_t len = size * n;
  if (s->size() + len > (16u << 20)) return 0;  // a runaway body: abort
  s->append(p, len);
  return len;
}

// Aborts a transfer once the run is being cut off.
int CancelProgress(void* cancel, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* flag = static_cast<const std::atomic<bool>*>(cancel);
  return flag && flag->load() ? 1 : 0;
}

bool SleepUnlessCancelled(double seconds, const std::atomic<bool>* cancel) {
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (Clock::now() < until) {
    if (cancel && cancel->load()) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(50)));
  }
  return true;
}

HttpResult Post(const CurlApi& curl, const std::string& url, const std::vector<std::string>& headers,
                const std::string& body, double connect_timeout_s, double timeout_s, const std::atomic<bool>* cancel) {
  HttpResult r;
  CURL* c = curl.easy_init();
  if (!c) {
    r.code = CURLE_FAILED_INIT;
    return r;
  }
  curl_slist* h = nullptr;
  for (const auto& x : headers) h = curl.slist_append(h, x.c_str());
  curl.easy_setopt(c, CURLOPT_URL, url.c_str());
  curl.easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl.easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl.easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, Append);
  curl.easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout_s * 1000));
  curl.easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_s * 1000));
  curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (cancel) {
    curl.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, CancelProgress);
    curl.easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(cancel));
    curl.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  }
  r.code = curl.easy_perform(c);
  curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_off_t ra = -1;
  if (curl.easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra >= 0) r.retry_after_s = static_cast<double>(ra);
  curl.slist_free_all(h);
  curl.easy_cleanup(c);
  return r;
}

class HttpAgent : public Agent {
 public:
  explicit HttpAgent(HttpAgentOptions o) : o_(std::move(o)) {
    info_ = LookupModel(o_.model);
    if (o_.context_tokens) info_.context_tokens = o_.context_tokens;
    if (o_.price_in >= 0) info_.price_in = o_.price_in;
    if (o_.price_out >= 0) info_.price_out = o_.price_out;
    while (!o_.base_url.empty() && o_.base_url.back() == '/') o_.base_url.pop_back();
  }
  std::string name() const override { return o_.kind; }
  std::string model() const override { return o_.model; }

  tl::expected<AgentReply, AgentError> Propose(const AgentRequest& q) override {
    // Pre-flight: ~4 characters a token is a safe over-estimate for code.
    std::size_t chars = 0;
    for (const auto& m : q.conversation) chars += m.content.size();
    const std::size_t est = chars / 3 + 16;
    if (est + static_cast<std::size_t>(o_.max_tokens) > info_.context_tokens)
      return tl::unexpected(AgentError{fmt::format("prompt of ~{} tokens plus {} for the answer does not fit {}'s {}-token "
                                                   "context; shorten the prompt templates or use a larger model",
                                                   est, o_.max_tokens, o_.model, info_.context_tokens)});
    const bool anthropic = o_.kind == "anthropic";
    json body;
    std::string url;
    std::vector<std::string> headers = {"Content-Type: application/json"};
    if (anthropic) {
      url = o_.base_url + "/v1/messages";
      headers.push_back("x-api-key: " + o_.api_key);
      headers.push_back("anthropic-version: 2023-06-01");
      json msgs = json::array();
      std::string system;
      for (const auto& m : q.conversation) {
        if (m.role == "system") system += m.content;
        else msgs.push_back({{"role", m.role}, {"content", m.content}});
      }
      body = {{"model", o_.model}, {"max_tokens", o_.max_tokens}, {"messages", msgs}};
      if (!system.empty()) body["system"] = system;
    } else {
      url = o_.base_url + "/chat/completions";
      if (!o_.api_key.empty()) headers.push_back("Authorization: Bearer " + o_.api_key);
      json msgs = json::array();
      for (const auto& m : q.conversation) msgs.push_back({{"role", m.role}, {"content", m.content}});
      body = {{"model", o_.model}, {"messages", msgs}, {"max_tokens", o_.max_tokens}};
    }
    for (const auto& [k, v] : o_.extra_body.items()) body[k] = v;
    const std::string payload = body.dump();
    auto curl = LoadCurl();
    if (!curl) return tl::unexpected(AgentError{curl.error(), true});
    std::mt19937_64 jitter(q.seed ^ 0x5eed);
    double wait = o_.backoff_s;
    double server_asked = -1;  // Retry-After of the last answer, if any
    const auto start = Clock::now();
    AgentError last;
    int unreachable = 0;  // connection refused or no such host, in a row
    for (int attempt = 0; attempt <= o_.max_retries; ++attempt) {
      if (attempt > 0) {
        const double u = static_cast<double>(jitter() >> 11) * 0x1.0p-53;  // 0 .. 1
        // Our own backoff is jittered both ways; a server's Retry-After is a
        // floor, jittered only upwards. An endpoint that is not there gets
        // quick tries (a server restarting), not the long backoff.
        const double sleep = server_asked >= 0 ? server_asked * (1.0 + 0.2 * u)
                             : unreachable > 0 ? 0.5 * (0.5 + u)
                                               : wait * (0.5 + u);
        if (!SleepUnlessCancelled(sleep, q.cancel)) {
          last.message = "cancelled: the run is stopping";
          return tl::unexpected(last);
        }
        wait *= 2;
        server_asked = -1;
      }
      HttpResult r = Post(**curl, url, headers, payload, o_.connect_timeout_s, o_.timeout_s, q.cancel);
      if (r.code == CURLE_ABORTED_BY_CALLBACK) {
        last.message = "cancelled: the run is stopping";
        last.latency_s = std::chrono::duration<double>(Clock::now() - start).count();
        return tl::unexpected(last);
      }
      last = AgentError{};
      last.http_status = static_cast<int>(r.status);
      if (r.code == CURLE_COULDNT_CONNECT || r.code == CURLE_COULDNT_RESOLVE_HOST ||
          r.code == CURLE_COULDNT_RESOLVE_PROXY) {
        // Nothing listens there, or the name does not resolve: three quick
        // tries, then the run stops with the reason (waiting longer only
        // spends the night).
        last.message = fmt::format("cannot reach {} (curl: {}): check --base-url and that the server runs", url,
                                   (*curl)->easy_strerror(r.code));
        if (++unreachable >= 3) {
          last.unreachable = true;
          last.latency_s = std::chrono::duration<double>(Clock::now() - start).count();
          return tl::unexpected(last);
        }
        continue;
      }
      unreachable = 0;
      if (r.code != CURLE_OK) {
        last.message = fmt::format("{} (curl: {})", r.code == CURLE_OPERATION_TIMEDOUT ? "timeout" : "transport error",
                                   (*curl)->easy_strerror(r.code));
        continue;  // timeouts and other transport failures are retried
      }
      if (r.status == 401 || r.status == 403) {
        last.message = fmt::format("HTTP {}: the API key was refused ({}); check {}", r.status, Excerpt(r.body),
                                   anthropic ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY");
        last.fatal = true;
        return tl::unexpected(last);
      }
      if (r.status == 404) {
        last.message = fmt::format("HTTP 404 from {}: wrong --base-url or unknown model '{}' ({})", url, o_.model, Excerpt(r.body));
        last.fatal = true;
        return tl::unexpected(last);
      }
      if (r.status == 429 || r.status >= 500) {
        last.message = fmt::format("HTTP {} ({})", r.status, Excerpt(r.body));
        if (r.retry_after_s >= 0) server_asked = r.retry_after_s;
        continue;
      }
      if (r.status != 200) {
        last.message = fmt::format("HTTP {}: {}", r.status, Excerpt(r.body));
        return tl::unexpected(last);
      }
      const double latency = std::chrono::duration<double>(Clock::now() - start).count();
      auto parsed = ParseReply(o_.kind, r.body, {info_.price_in, info_.price_out, est});
      if (!parsed) {
        last.message = parsed.error();
        last.latency_s = latency;
        return tl::unexpected(last);
      }
      AgentReply reply = std::move(*parsed);
      reply.model = o_.model;
      reply.latency_s = latency;
      return reply;
    }
    last.latency_s = std::chrono::duration<double>(Clock::now() - start).count();
    last.message = fmt::format("gave up after {} attempts: {}", o_.max_retries + 1, last.message);
    return tl::unexpected(last);
  }

 private:
  static std::string Excerpt(const std::string& s) { return s.size() > 300 ? s.substr(0, 300) + "..." : s; }
  HttpAgentOptions o_;
  ModelInfo info_;
};

}  // namespace

ModelInfo LookupModel(const std::string& model) {
  // USD per million tokens (input, output) as published by the vendors; a
  // table, not a promise: override with --price-in / --price-out.
  struct Row {
    const char* prefix;
    std::size_t context;
    double in, out;
  };
  static const Row rows[] = {
      {"gpt-4o-mini", 128000, 0.15, 0.60}, {"gpt-4o", 128000, 2.50, 10.00}, {"gpt-4.1-mini", 1000000, 0.40, 1.60},
      {"gpt-4.1", 1000000, 2.00, 8.00},    {"o3-mini", 200000, 1.10, 4.40},  {"claude-3-5-haiku", 200000, 0.80, 4.00},
      {"claude-3-5-sonnet", 200000, 3.00, 15.00}, {"claude-3-7-sonnet", 200000, 3.00, 15.00},
      {"claude-sonnet-4", 200000, 3.00, 15.00},   {"claude-opus-4", 200000, 15.00, 75.00},
  };
  const auto slash = model.rfind('/');
  const std::string bare = slash == std::string::npos ? model : model.substr(slash + 1);
  for (const auto& r : rows)
    if (bare.rfind(r.prefix, 0) == 0) return {r.context, r.in, r.out, true};
  return {128000, 0, 0, false};
}

std::unique_ptr<Agent> MakeHttpAgent(const HttpAgentOptions& options) { return std::make_unique<HttpAgent>(options); }

tl::expected<void, std::string> ApplyAgentParams(const std::vector<std::string>& params, HttpAgentOptions& o) {
  for (const auto& item : params) {
    const auto eq = item.find('=');
    const std::string key = item.substr(0, eq);
    if (eq == std::string::npos || key.empty() ||
        key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
      return tl::unexpected(fmt::format("--agent-param {}: expected KEY=VALUE with a lower-case KEY", item));
    if (key == "model" || key == "messages" || key == "system")
      return tl::unexpected(fmt::format("--agent-param {}: ergon sets '{}' itself", item, key));
    const std::string text = item.substr(eq + 1);
    json value = json::parse(text, nullptr, false);
    if (value.is_discarded()) value = text;
    if (key == "max_tokens") {
      if (!value.is_number_integer() || value.get<long long>() < 1 || value.get<long long>() > 1000000)
        return tl::unexpected(fmt::format("--agent-param {}: max_tokens takes a whole number from 1", item));
      o.max_tokens = value.get<int>();
      continue;
    }
    o.extra_body[key] = value;
  }
  return {};
}

}  // namespace ergon::engine
