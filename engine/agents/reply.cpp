#include "engine/agents/reply.h"

#include <cmath>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace ergon::engine {
namespace {
using json = nlohmann::json;

std::string Excerpt(const std::string& s) { return s.size() > 300 ? s.substr(0, 300) + "..." : s; }

// A token count from a usage field: a non-negative whole number below a
// trillion, else nothing (the caller estimates).
std::optional<std::int64_t> Count(const json& u, const char* key) {
  if (!u.contains(key)) return std::nullopt;
  const json& v = u[key];
  if (!v.is_number()) return std::nullopt;
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < 0 || d > 1e12) return std::nullopt;
  return static_cast<std::int64_t>(d);
}

}  // namespace

tl::expected<AgentReply, std::string> ParseReply(const std::string& kind, const std::string& body,
                                                 const ReplyPricing& pricing) {
  const bool anthropic = kind == "anthropic";
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return tl::unexpected("unreadable response (not a JSON object): " + Excerpt(body));
  AgentReply reply;
  if (anthropic) {
    if (!j.contains("content") || !j["content"].is_array())
      return tl::unexpected("unreadable response (no \"content\" array): " + Excerpt(body));
    for (const auto& part : j["content"])
      if (part.is_object() && part.contains("text") && part["text"].is_string() &&
          (!part.contains("type") || (part["type"].is_string() && part["type"].get<std::string>() == "text")))
        reply.text += part["text"].get<std::string>();
  } else {
    const json* content = nullptr;
    if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty() && j["choices"][0].is_object()) {
      const json& c = j["choices"][0];
      if (c.contains("message") && c["message"].is_object() && c["message"].contains("content"))
        content = &c["message"]["content"];
    }
    if (!content || !content->is_string())
      return tl::unexpected("unreadable response (no choices[0].message.content string): " + Excerpt(body));
    reply.text = content->get<std::string>();
  }
  std::optional<std::int64_t> in, out;
  if (j.contains("usage") && j["usage"].is_object()) {
    in = Count(j["usage"], anthropic ? "input_tokens" : "prompt_tokens");
    out = Count(j["usage"], anthropic ? "output_tokens" : "completion_tokens");
  }
  reply.usage_reported = in.has_value() && out.has_value();
  // No (usable) usage: estimate so budgets still hold, and say so in the ledger.
  reply.tokens_in = in.value_or(static_cast<std::int64_t>(pricing.prompt_tokens_estimate));
  reply.tokens_out = out.value_or(static_cast<std::int64_t>(reply.text.size() / 3));
  reply.cost_usd = (static_cast<double>(reply.tokens_in) * pricing.price_in +
                    static_cast<double>(reply.tokens_out) * pricing.price_out) / 1e6;
  auto nl = reply.text.find('\n');
  reply.intent = reply.text.substr(0, std::min<std::size_t>(nl == std::string::npos ? reply.text.size() : nl, 300));
  return reply;
}

}  // namespace ergon::engine
