// Agent replies read defensively: the two wire formats, well-formed and then
// mutated every way a server (or a proxy) can get them wrong. Nothing throws;
// every reply that parses has sane numbers.
#include <cmath>
#include <random>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "engine/agents/reply.h"

using ergon::engine::ParseReply;
using ergon::engine::ReplyPricing;
using json = nlohmann::json;

namespace {

const json kOpenAi = json::parse(R"({"id": "x", "choices": [{"index": 0, "message": {"role": "assistant",
  "content": "change the rows\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE"}}],
  "usage": {"prompt_tokens": 1000, "completion_tokens": 100}})");
const json kAnthropic = json::parse(R"({"id": "x", "type": "message", "content": [{"type": "text",
  "text": "change the rows\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE"}],
  "usage": {"input_tokens": 1000, "output_tokens": 100}})");

json Odd(std::mt19937_64& rng) {
  switch (rng() % 10) {
    case 0: return nullptr;
    case 1: return "a string";
    case 2: return -5;
    case 3: return 1e300;
    case 4: return json::array({1, "two", nullptr});
    case 5: return json::object({{"nested", json::object()}});
    case 6: return true;
    case 7: return std::string(100000, 'x');
    case 8: return -1e300;
    default: return 0.5;
  }
}

// Swaps, deletes or adds one value somewhere in the tree.
void Mutate(json& j, std::mt19937_64& rng) {
  json* at = &j;
  for (int depth = 0; depth < 6; ++depth) {
    if (at->is_object() && !at->empty()) {
      auto it = at->begin();
      std::advance(it, static_cast<long>(rng() % at->size()));
      if (rng() % 3 == 0) {
        const int action = static_cast<int>(rng() % 3);
        if (action == 0) at->erase(it.key());
        else if (action == 1) *it = Odd(rng);
        else (*at)["extra"] = Odd(rng);
        return;
      }
      at = &*it;
    } else if (at->is_array() && !at->empty()) {
      if (rng() % 3 == 0) {
        (*at)[rng() % at->size()] = Odd(rng);
        return;
      }
      at = &(*at)[rng() % at->size()];
    } else {
      *at = Odd(rng);
      return;
    }
  }
  *at = Odd(rng);
}

void CheckSane(const std::string& kind, const std::string& body) {
  tl::expected<ergon::engine::AgentReply, std::string> r = tl::unexpected(std::string("not run"));
  CHECK_NOTHROW(r = ParseReply(kind, body, {0.15, 0.60, 1234}));
  if (r) {
    CHECK(r->tokens_in >= 0);
    CHECK(r->tokens_out >= 0);
    CHECK(std::isfinite(r->cost_usd));
    CHECK(r->cost_usd >= 0);
    CHECK(r->intent.size() <= 300);
  } else {
    CHECK(!r.error().empty());
  }
}

}  // namespace

TEST_CASE("well-formed replies in both formats: text, usage and cost") {
  for (const auto& [kind, body] : {std::pair{"openai", kOpenAi}, std::pair{"anthropic", kAnthropic}}) {
    auto r = ParseReply(kind, body.dump(), {1.0, 2.0, 7});
    REQUIRE(r.has_value());
    CHECK(r->text.find("SEARCH") != std::string::npos);
    CHECK(r->intent == "change the rows");
    CHECK(r->tokens_in == 1000);
    CHECK(r->tokens_out == 100);
    CHECK(r->usage_reported);
    CHECK(r->cost_usd == doctest::Approx((1000 * 1.0 + 100 * 2.0) / 1e6));
  }
}

TEST_CASE("usage of the wrong type is estimated and said so - never a crash (was: exit 134)") {
  json j = kOpenAi;
  j["usage"]["prompt_tokens"] = "1000";
  auto r = ParseReply("openai", j.dump(), {1.0, 1.0, 77});
  REQUIRE(r.has_value());
  CHECK(!r->usage_reported);
  CHECK(r->tokens_in == 77);
  j["usage"] = "lots";
  CHECK(ParseReply("openai", j.dump(), {1.0, 1.0, 77}).has_value());
  j["usage"] = {{"prompt_tokens", -3}, {"completion_tokens", 1e300}};
  r = ParseReply("openai", j.dump(), {1.0, 1.0, 77});
  REQUIRE(r.has_value());
  CHECK(r->tokens_in == 77);
  CHECK(!r->usage_reported);
}

TEST_CASE("fuzz: thousands of mutated replies in both wire formats, and garbage bodies") {
  std::mt19937_64 rng(20261130);
  for (int i = 0; i < 4000; ++i) {
    const bool anthropic = i % 2 == 1;
    json j = anthropic ? kAnthropic : kOpenAi;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) Mutate(j, rng);
    CheckSane(anthropic ? "anthropic" : "openai", j.dump());
  }
  const std::string valid = kOpenAi.dump();
  for (int i = 0; i < 1000; ++i) {
    std::string body = valid.substr(0, rng() % valid.size());  // truncated
    if (i % 3 == 0)
      for (auto& c : body)
        if (rng() % 20 == 0) c = static_cast<char>(rng() % 256);  // and corrupted
    CheckSane(i % 2 ? "anthropic" : "openai", body);
  }
  for (const char* odd : {"", "null", "[]", "42", "\"text\"", "{}", "{\"choices\": []}", "{\"content\": {}}"}) {
    CheckSane("openai", odd);
    CheckSane("anthropic", odd);
  }
}
