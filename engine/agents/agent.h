// Agents propose one candidate per call. Every call's usage goes into the
// ledger, whatever came of it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "genome/genome.h"

namespace ergon::engine {

struct Message {
  std::string role;  // system | user | assistant
  std::string content;
};

struct AgentRequest {
  std::vector<Message> conversation;  // system, user, and any repair turns
  const genome::Genome* parent = nullptr;
  std::vector<const genome::Genome*> inspirations;  // for recombination
  std::string task;
  std::uint64_t seed = 0;
  // Set when the run is being cut off: a call in progress ends at once.
  const std::atomic<bool>* cancel = nullptr;
};

struct AgentReply {
  std::string text;      // SEARCH/REPLACE blocks or a fenced file
  // Set when the agent built the whole program itself (the offline agent,
  // often with the task's transformation: megabytes): the child's source,
  // handed over as it is instead of fenced in `text` and parsed back out.
  std::shared_ptr<const std::string> program;
  std::string intent;    // what the agent says it changed
  std::string idea;      // a few words naming the idea (IdeaOf; the offline agent's move)
  std::string model;
  std::int64_t tokens_in = 0, tokens_out = 0;
  double cost_usd = 0, latency_s = 0;
  bool usage_reported = true;
};

struct AgentError {
  std::string message;
  bool fatal = false;  // stop the run (bad key, model not found)
  // Nothing listens at the endpoint, or its name does not resolve (after a
  // few quick tries): the run stops, unless it may fall back (--fallback-offline).
  bool unreachable = false;
  int http_status = 0;
  std::int64_t tokens_in = 0, tokens_out = 0;  // what a failed call still cost
  double cost_usd = 0, latency_s = 0;
};

class Agent {
 public:
  virtual ~Agent() = default;
  virtual tl::expected<AgentReply, AgentError> Propose(const AgentRequest& request) = 0;
  virtual std::string name() const = 0;
  virtual std::string model() const = 0;
};

// A task's own transformation (evaluators::Task::MakeTransform), from a seed.
// Returns the new source, or an error.
using Transform = std::function<tl::expected<std::string, std::string>(const std::string& source, std::uint64_t seed)>;

// What a task lends the offline agent: its transformation, and how to find
// the source a transformed candidate came from (to mutate that instead).
struct TaskHooks {
  Transform transform;  // null: none
  std::string transform_idea = "the task's transformation";  // what it does, in a few words
  std::function<std::optional<std::string>(const std::string& source)> origin_of;  // null: none
};

// The offline agent: mutates declared knobs (one to three at a time, on a log
// scale where declared), recombines knob settings of inspirations, and
// sometimes applies the task's transformation. Needs no network.
std::unique_ptr<Agent> MakeOfflineAgent(TaskHooks hooks = {});

struct HttpAgentOptions {
  std::string kind;      // openai | anthropic
  std::string base_url;  // OpenAI's includes /v1; Anthropic's does not
  std::string model;
  std::string api_key;
  double connect_timeout_s = 10, timeout_s = 120;
  int max_retries = 4;
  double backoff_s = 1.0;          // first retry wait; doubles, with jitter
  int max_tokens = 4096;           // completion budget per call
  std::size_t context_tokens = 0;  // 0 = from the model table
  double price_in = -1, price_out = -1;  // USD per million tokens; -1 = table
  // Sampling settings sent in every request body (temperature, top_p,
  // reasoning_effort, ...), as the provider names them.
  nlohmann::json extra_body = nlohmann::json::object();
};

// --agent-param KEY=VALUE: VALUE as JSON when it parses (0.2, true,
// "text"), else as a string. `max_tokens` sets the completion budget. An
// error names a malformed item or a key ergon sets itself.
tl::expected<void, std::string> ApplyAgentParams(const std::vector<std::string>& params, HttpAgentOptions& options);

std::unique_ptr<Agent> MakeHttpAgent(const HttpAgentOptions& options);

// A coding-agent command line (`claude -p`, `codex exec`, ...), run with the
// prompt on stdin in a scratch folder holding candidate.cpp and TASK.md; the
// edited candidate.cpp is the proposal (a whole file).
std::unique_ptr<Agent> MakeCliAgent(const std::string& command, double timeout_s);

// Defaults per model: context window (tokens) and price (USD per million
// input / output tokens). Unknown models: 128k context, price 0 (and said).
struct ModelInfo {
  std::size_t context_tokens;
  double price_in, price_out;
  bool known;
};
// A provider prefix ("openai/gpt-4o-mini", as OpenRouter names models) is
// looked past.
ModelInfo LookupModel(const std::string& model);

}  // namespace ergon::engine
