#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "engine/agents/agent.h"
#include "genome/edit.h"

namespace ergon::engine {
namespace {

class OfflineAgent : public Agent {
 public:
  explicit OfflineAgent(TaskHooks hooks) : hooks_(std::move(hooks)) {}
  std::string name() const override { return "offline"; }
  std::string model() const override { return "offline"; }

  tl::expected<AgentReply, AgentError> Propose(const AgentRequest& q) override {
    if (!q.parent) return tl::unexpected(AgentError{"offline agent: no parent"});
    std::mt19937_64 rng(q.seed);
    auto unit = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
    const auto& knobs = q.parent->knobs();
    // A transformed source carries the one it came from.
    const std::optional<std::string> origin = hooks_.origin_of ? hooks_.origin_of(q.parent->source()) : std::nullopt;
    const bool transformed = origin.has_value();
    const Transform& transform_ = hooks_.transform;
    // The task's transformation now and then (it is expensive and final:
    // its result has no knobs), and whenever there is nothing else to do.
    if (transform_ && !transformed && (knobs.empty() || unit() < 0.15)) {
      auto t = transform_(q.parent->source(), q.seed);
      if (t) return Reply(q.parent->source(), *t, "the task's own transformation of the parent", hooks_.transform_idea);
      if (knobs.empty()) return tl::unexpected(AgentError{"offline agent: transformation failed: " + t.error()});
    }
    if (knobs.empty()) {
      // A transformed parent keeps its origin: mutate that, transform again.
      auto og = origin ? genome::Genome::Parse(*origin) : tl::unexpected(std::string("no origin"));
      if (transform_ && og && !og->knobs().empty()) {
        AgentRequest inner = q;
        inner.parent = &*og;
        inner.inspirations.clear();
        OfflineAgent plain(TaskHooks{});
        auto mutated = plain.Propose(inner);
        if (!mutated) return mutated;
        auto applied = genome::ApplyProposal(*og, mutated->text, {true});
        if (!applied) return tl::unexpected(AgentError{"offline agent: " + applied.error().message});
        auto t = transform_(applied->source(), q.seed);
        if (!t) return tl::unexpected(AgentError{"offline agent: transformation failed: " + t.error()});
        return Reply(q.parent->source(), *t, mutated->intent + ", then the task's transformation",
                     mutated->idea + ", then " + hooks_.transform_idea);
      }
      return tl::unexpected(AgentError{"offline agent: the parent declares no knobs to mutate"});
    }

    genome::Genome child = *q.parent;
    std::string intent, idea;
    // Recombination: take knob values from an inspiration that shares them.
    if (!q.inspirations.empty() && unit() < 0.3) {
      const genome::Genome* other = q.inspirations[rng() % q.inspirations.size()];
      for (const auto& k : knobs) {
        const genome::Knob* ok = other->FindKnob(k.name);
        if (!ok || ok->value == k.value || unit() < 0.5) continue;
        if (auto g = child.WithKnob(k.name, ok->value)) {
          child = *g;
          intent += fmt::format("{}{} {} -> {} (from an inspiration)", intent.empty() ? "" : "; ", k.name,
                                genome::FormatKnobValue(k.value, k.integer), genome::FormatKnobValue(ok->value, k.integer));
          idea += (idea.empty() ? "recombine " : ", ") + k.name;
        }
      }
    }
    if (intent.empty()) {
      const int changes = 1 + static_cast<int>(rng() % std::min<std::size_t>(3, knobs.size()));
      for (int c = 0; c < changes; ++c) {
        const genome::Knob& k = knobs[rng() % knobs.size()];
        const genome::Knob* cur = child.FindKnob(k.name);
        for (int attempt = 0; attempt < 8; ++attempt) {
          std::normal_distribution<double> n(0.0, 1.0);
          double step = n(rng);
          if (k.prefer_lower && unit() < 0.75) step = -std::fabs(step);  // `down`: mostly try cheaper
          double v = k.log_scale ? cur->value * std::exp(0.5 * step)
                                 : cur->value + 0.15 * (k.hi - k.lo) * step;
          v = std::clamp(v, k.lo, k.hi);
          if (k.integer) v = std::round(v);
          else v = std::stod(fmt::format("{:.3g}", v));  // short literals
          if (v == cur->value || v < k.lo || v > k.hi) continue;
          auto g = child.WithKnob(k.name, v);
          if (!g) continue;
          intent += fmt::format("{}{} {} -> {}", intent.empty() ? "" : "; ", k.name,
                                genome::FormatKnobValue(cur->value, k.integer), genome::FormatKnobValue(v, k.integer));
          if (idea.find(k.name) == std::string::npos) idea += (idea.empty() ? "tune " : ", ") + k.name;
          child = *g;
          break;
        }
      }
    }
    if (intent.empty()) return tl::unexpected(AgentError{"offline agent: no knob change found"});
    return Reply(q.parent->source(), child.source(), intent, idea);
  }

 private:
  // SEARCH/REPLACE blocks for the lines that differ (knob edits keep the
  // line count), or a whole file when the shape changed or more than a few
  // lines did (a re-transformed generator differs in thousands of lines:
  // as many edits, each a search of the whole file, cost more than it).
  static AgentReply Reply(const std::string& from, const std::string& to, const std::string& intent,
                          const std::string& idea) {
    constexpr std::size_t kMostEdits = 16;
    AgentReply r;
    r.model = "offline";
    r.intent = intent;
    r.idea = idea;
    r.usage_reported = true;
    const auto edits = DifferingLines(from, to, kMostEdits);
    if (!edits) {
      r.program = std::make_shared<const std::string>(to);
      r.text = fmt::format("{}\n[the whole program, {} bytes, handed over as it is]\n", intent, to.size());
      return r;
    }
    r.text = intent + "\n";
    for (const auto& [a, b] : *edits)
      r.text += fmt::format("<<<<<<< SEARCH\n{}\n=======\n{}\n>>>>>>> REPLACE\n", a, b);
    return r;
  }

  // The pairs of lines that differ, in order; nullopt when the texts differ in
  // line count or in more than `most` lines. Read as views in one pass that
  // stops early: these sources can be megabytes.
  static std::optional<std::vector<std::pair<std::string_view, std::string_view>>> DifferingLines(
      std::string_view from, std::string_view to, std::size_t most) {
    auto lines = [](std::string_view t) { return std::count(t.begin(), t.end(), '\n') + (!t.empty() && t.back() != '\n'); };
    if (lines(from) != lines(to)) return std::nullopt;
    std::vector<std::pair<std::string_view, std::string_view>> out;
    auto next = [](std::string_view t, std::size_t& at) {
      const std::size_t nl = std::min(t.find('\n', at), t.size());
      const std::string_view line = t.substr(at, nl - at);
      at = nl + 1;
      return line;
    };
    for (std::size_t i = 0, j = 0; i < from.size() && j < to.size();) {
      const std::string_view a = next(from, i), b = next(to, j);
      if (a == b) continue;
      if (out.size() == most) return std::nullopt;
      out.emplace_back(a, b);
    }
    return out;
  }

  TaskHooks hooks_;
};

}  // namespace

std::unique_ptr<Agent> MakeOfflineAgent(TaskHooks hooks) {
  return std::make_unique<OfflineAgent>(std::move(hooks));
}

}  // namespace ergon::engine
