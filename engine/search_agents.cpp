// `ergon run`: the agents a run proposes with (--agent, --model), the
// offline agent its breaker falls back to, what a spend budget needs of
// their prices, and the model bandit restored from the run's ledger.
#include <cstdlib>

#include <fmt/core.h>

#include "engine/agents/curl_api.h"
#include "engine/search_loop.h"

namespace ergon::engine::search {

// The agent asked for, and the offline agent the circuit breaker falls back to.
// One HTTP agent for a --model value: [openai:|anthropic:]NAME[@BASE_URL].
tl::expected<std::unique_ptr<Agent>, std::string> Search::MakeModelAgent(const std::string& spec) const {
  std::string kind = o_.agent, name = spec, base = o_.base_url;
  for (const char* k : {"openai", "anthropic"})
    if (name.rfind(std::string(k) + ":", 0) == 0) {
      kind = k;
      name = name.substr(std::string(k).size() + 1);
    }
  if (const auto at = name.find("@http"); at != std::string::npos) {
    base = name.substr(at + 1);
    name = name.substr(0, at);
  }
  HttpAgentOptions h;
  h.kind = kind;
  const bool openai = kind == "openai";
  h.base_url = !base.empty() ? base : (openai ? "https://api.openai.com/v1" : "https://api.anthropic.com");
  h.model = !name.empty() ? name : (openai ? "gpt-4o-mini" : "claude-3-5-haiku-latest");
  const char* key = std::getenv(openai ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY");
  h.api_key = key ? key : "";
  if (h.api_key.empty() && base.empty())
    return tl::unexpected(fmt::format("set {} (or point --base-url at a local server)",
                                      openai ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY"));
  h.timeout_s = o_.agent_timeout_s;
  h.backoff_s = o_.agent_backoff_s;
  h.price_in = o_.price_in;
  h.price_out = o_.price_out;
  if (auto ok = ApplyAgentParams(o_.agent_params, h); !ok) return tl::unexpected(ok.error());
  return MakeHttpAgent(h);
}

int Search::StartAgents() {
  const evaluators::Task* t = task_.get();
  auto hooks = [&] {
    return TaskHooks{t->MakeTransform(&*sandbox_), t->TransformIdea(),
                     [t](const std::string& src) { return t->OriginOf(src); }};
  };
  offline_ = MakeOfflineAgent(hooks());
  if (!parts_.agents.empty()) {
    agents_ = std::move(parts_.agents);
  } else if (o_.agent == "offline") {
    agents_.push_back(MakeOfflineAgent(hooks()));
  } else if (o_.agent == "openai" || o_.agent == "anthropic") {
    // libcurl is loaded (and initialised) here, before any thread uses it:
    // only runs that talk HTTP pay for it.
    if (auto curl = LoadCurl(); !curl) {
      fmt::print(stderr, "ergon run: {}\n", curl.error());
      return 1;
    }
    std::vector<std::string> specs = o_.models;
    if (specs.empty()) specs.push_back("");
    for (const auto& spec : specs) {
      auto agent = MakeModelAgent(spec);
      if (!agent) {
        fmt::print(stderr, "ergon run: {}\n", agent.error());
        return 2;
      }
      agents_.push_back(std::move(*agent));
    }
  } else if (o_.agent == "cli") {
    if (o_.command.empty()) {
      fmt::print(stderr, "ergon run: --agent cli needs --command, e.g. --command \"claude -p\"\n");
      return 2;
    }
    agents_.push_back(MakeCliAgent(o_.command, o_.agent_timeout_s));
  } else {
    fmt::print(stderr, "ergon run: unknown agent '{}' (offline | openai | anthropic | cli)\n", o_.agent);
    return 2;
  }

  return 0;
}

std::string Search::ModelNames() const {
  std::string s;
  for (const auto& a : agents_) s += (s.empty() ? "" : ",") + a->model();
  return s;
}

// A spend budget is only a budget when the price is known.
std::string Search::PriceProblem() const {
  if (o_.max_cost_usd <= 0 || (o_.agent != "openai" && o_.agent != "anthropic")) return {};
  if (o_.price_in >= 0 && o_.price_out >= 0) return {};
  for (const auto& a : agents_)
    if (!LookupModel(a->model()).known)
      return fmt::format("--max-cost needs prices, and ergon's table has none for model '{}': give --price-in and "
                         "--price-out (USD per million tokens)", a->model());
  return {};
}

void Search::RestoreBandit() {
  if (agents_.size() < 2) return;
  std::vector<std::string> names;
  for (const auto& a : agents_) names.push_back(LedgerName(*a));
  auto led = recorder_->Direct().Ledger();
  base::MutexLock l(&s_.mu);
  bandit_.emplace(names);
  if (!led) return;
  std::string told;
  for (const auto& e : *led)
    if (e.run_id == s_.run_id && bandit_->Find(e.model) < names.size()) {
      bandit_->Restore(e.model, e.calls, e.wins, e.cost_usd);
      told += fmt::format("{}{} {} calls {} wins ${:.4f}", told.empty() ? "" : "; ", e.model, e.calls, e.wins,
                          e.cost_usd);
    }
  if (!told.empty()) fmt::print(stderr, "ergon run: model bandit, from the archive: {}\n", told);
}

}  // namespace ergon::engine::search
