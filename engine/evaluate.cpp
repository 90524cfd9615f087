#include "engine/evaluate.h"

#include <cmath>
#include <optional>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace ergon::engine {

EvalOutcome Evaluate(const evaluators::Task& task, const evaluators::TaskEvalRequest& q,
                     const sandbox::Sandbox* sandbox) {
  EvalOutcome o;
  if (auto why = task.CheckRequest(q); !why.empty()) {
    o.usage_error = true;
    o.m.stage = "usage";
    o.m.error = why;
    return o;
  }
  std::optional<sandbox::Sandbox> own;
  if (!sandbox) {
    auto made = sandbox::Sandbox::Create();
    if (!made) {
      o.m.stage = "sandbox";
      o.m.error = made.error();
      return o;
    }
    own = std::move(*made);
    sandbox = &*own;
  }
  o.m = task.Evaluate(*sandbox, q);
  if (o.m.json.empty()) {
    nlohmann::json j = {{"status", o.m.ran ? "ok" : o.m.error}, {"stage", o.m.stage}, {"task", task.spec().name},
                        {"meter", o.m.meter}, {"suite", o.m.suite}, {"harness_error", o.m.harness_error},
                        {"gate_passed", o.m.gate_passed}, {"metrics", o.m.metrics},
                        {"feedback", o.m.feedback.substr(0, 4096)}};
    o.m.json = j.dump();
  }
  return o;
}

archive::Evaluation ToEvaluation(const evaluators::Measurement& m) {
  archive::Evaluation e;
  e.evaluator_version = m.evaluator_version;
  e.meter = m.meter;
  e.device = m.device;
  e.suite = m.suite;
  e.status = m.ran ? "ok" : m.error.substr(0, 2000);
  e.feedback = m.feedback.substr(0, 8192);
  e.gate_passed = m.ran && m.gate_passed;
  e.fitness = m.fitness;
  if (m.ran) {
    e.metrics.values = m.metrics;
    e.metrics.components = m.components;
  }
  return e;
}

std::string MainMetric(const evaluators::TaskSpec& spec, const archive::Evaluation& e) {
  if (e.metrics.Get(spec.minimise)) return spec.minimise;
  return e.metrics.Get("wall_s") ? "wall_s" : spec.minimise;
}

std::string FormatMetric(double v) {
  return v == std::floor(v) && std::fabs(v) < 1e15 ? fmt::format("{:.0f}", v) : fmt::format("{:.4g}", v);
}

std::string DescribeMetrics(const evaluators::TaskSpec& spec, const std::optional<archive::Evaluation>& e) {
  if (!e) return "not evaluated";
  std::string s;
  auto add = [&](const std::string& n) {
    auto v = e->metrics.Get(n);
    if (!v || s.find(n + "=") != std::string::npos) return;
    s += fmt::format("{}{}={}", s.empty() ? "" : ", ", n, FormatMetric(*v));
  };
  add(spec.gate_metric);
  add(spec.minimise);
  for (const auto& r : spec.record) add(r);
  for (const auto& [n, v] : e->metrics.values) add(n);
  return s + (e->gate_passed ? " (gate passed)" : " (gate NOT passed)");
}

}  // namespace ergon::engine
