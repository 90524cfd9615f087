// Reading an LLM's HTTP reply body (OpenAI chat completions or Anthropic
// Messages) into an AgentReply. Defensive: any body, however malformed
// (types swapped, fields missing, huge or negative numbers), gives a reply or
// an error, never an exception.
#pragma once

#include <cstddef>
#include <string>

#include <tl/expected.hpp>

#include "engine/agents/agent.h"

namespace ergon::engine {

struct ReplyPricing {
  double price_in = 0, price_out = 0;  // USD per million tokens
  std::size_t prompt_tokens_estimate = 0;  // used when usage is missing
};

// What a reply's text says it does. The prompt asks for a first line
// `Idea: a few words`: that is the idea, and the next non-empty line the
// intent. Without it, the first line is the intent and its first six words
// the idea. Each is one line, at most 300 bytes (the idea 80).
struct IdeaAndIntent {
  std::string idea, intent;
};
IdeaAndIntent ReadIdea(const std::string& text);

// kind: openai | anthropic. The error is the message for the ledger.
tl::expected<AgentReply, std::string> ParseReply(const std::string& kind, const std::string& body,
                                                 const ReplyPricing& pricing);

}  // namespace ergon::engine
