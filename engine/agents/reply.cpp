#include "engine/agents/reply.h"

#include <cctype>
#include <cmath>
#include <vector>

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
  auto said = ReadIdea(reply.text);
  reply.idea = std::move(said.idea);
  reply.intent = std::move(said.intent);
  return reply;
}

IdeaAndIntent ReadIdea(const std::string& text) {
  // The first two lines of prose, before any edit or code fence, without
  // markdown's emphasis and heading marks.
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < text.size() && lines.size() < 2;) {
    std::size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(at, nl - at);
    at = nl + 1;
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    if (line.compare(b, 3, "```") == 0 || line.compare(b, 7, "<<<<<<<") == 0) break;
    const auto pb = line.find_first_not_of(" \t\r*#`", b), pe = line.find_last_not_of(" \t\r*#`");
    if (pb != std::string::npos) lines.push_back(line.substr(pb, pe - pb + 1));
  }
  IdeaAndIntent r;
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  if (!lines.empty() && lower(lines[0].substr(0, 5)) == "idea:") {
    std::string idea = lines[0].substr(5);
    idea.erase(0, std::min(idea.size(), idea.find_first_not_of(" \t*")));
    r.idea = idea.substr(0, 80);
    if (lines.size() > 1) r.intent = lines[1].substr(0, 300);
    return r;
  }
  if (lines.empty()) return r;
  r.intent = lines[0].substr(0, 300);
  std::size_t words = 0, at = 0;
  while (at < r.intent.size() && words < 6) {
    at = r.intent.find_first_not_of(' ', at);
    if (at == std::string::npos) break;
    at = r.intent.find(' ', at);
    ++words;
    if (at == std::string::npos) at = r.intent.size();
  }
  r.idea = r.intent.substr(0, std::min<std::size_t>(at, 80));
  while (!r.idea.empty() && (r.idea.back() == '.' || r.idea.back() == ',' || r.idea.back() == ':')) r.idea.pop_back();
  return r;
}

}  // namespace ergon::engine
