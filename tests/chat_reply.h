// Test helper: the body an OpenAI-style chat completions endpoint answers
// with, for the scripted model servers the tests start on 127.0.0.1 (every
// reply reports 1,000 prompt and 100 completion tokens).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

inline std::string ChatReply(const std::string& text) {
  const nlohmann::json j = {
      {"choices", nlohmann::json::array({{{"message", {{"role", "assistant"}, {"content", text}}}}})},
      {"usage", {{"prompt_tokens", 1000}, {"completion_tokens", 100}}}};
  return j.dump();
}
