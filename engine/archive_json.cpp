#include "engine/archive_json.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "engine/evaluate.h"
#include "engine/task_origin.h"
#include "engine/tasks.h"

namespace ergon::engine {

using json = nlohmann::json;

void PutMetrics(json& j, const archive::Evaluation& e) {
  j["evaluator_version"] = e.evaluator_version;
  j["meter"] = e.meter;
  j["device"] = e.device;
  j["suite"] = e.suite;
  j["eval_status"] = e.status;
  j["fitness"] = e.fitness;
  // Metrics at the top level (as `ergon eval --json` names them) and together.
  for (const auto& [name, v] : e.metrics.values) j[name] = v;
  j["metrics"] = e.metrics.values;
  if (!e.metrics.components.empty()) {
    try {
      j["components"] = json::parse(e.metrics.components);
    } catch (const json::exception&) {
      j["components"] = e.metrics.components;
    }
  }
}

json RowJson(const archive::Row& r) {
  const auto& c = r.candidate;
  json j;
  j["id"] = c.id;
  j["parent"] = c.parent ? json(*c.parent) : json(nullptr);
  j["run"] = c.run_id;
  j["task"] = c.task;
  j["island"] = c.island;
  j["generation"] = c.generation;
  j["status"] = archive::StatusName(c.status);
  j["gate_passed"] = c.gate_passed;
  j["on_front"] = c.on_front;
  j["children"] = c.children;
  j["hash"] = c.hash;
  j["intent"] = c.intent;
  j["idea"] = c.idea;
  j["reintroduced"] = c.reintroduced;
  j["created_at"] = c.created_at;
  if (r.best) PutMetrics(j, *r.best);
  return j;
}

json AttemptJson(const archive::AttemptRow& t) {
  return {{"attempt", t.id}, {"run", t.run_id}, {"parent", t.parent ? json(*t.parent) : json(nullptr)},
          {"stage", t.stage}, {"error", t.error}, {"proposal", t.proposal}, {"created_at", t.created_at}};
}

json OutcomesJson(const archive::OutcomeCounts& c) {
  json j = json::object();
  for (std::size_t o = 0; o < archive::kOutcomes; ++o) j[archive::OutcomeKey(static_cast<archive::Outcome>(o))] = c.n[o];
  return j;
}

json RunJson(const archive::Run& r) {
  json j = {{"id", r.id}, {"task", r.task}, {"agent", r.agent}, {"model", r.model}, {"settings", r.settings},
            {"started_at", r.started_at}, {"ended_at", r.ended_at}, {"status", archive::StatusName(r.status)},
            {"stop_reason", r.stop_reason}, {"process", r.process}};
  // The run file it was launched with (`ergon run --config`), when stored.
  const json st = json::parse(r.settings, nullptr, false);
  if (st.is_object() && st.contains("config") && st["config"].is_string()) j["config"] = st["config"];
  // Where its proposals started (runs before strategies: evolve), and the
  // study it is an arm of.
  j["strategy"] = st.is_object() ? st.value("strategy", "evolve") : "evolve";
  j["isolated"] = st.is_object() && st.value("isolated", false);
  if (st.is_object() && st.contains("study") && st["study"].is_object()) j["study"] = st["study"];
  return j;
}

json LedgerSummaryJson(const archive::LedgerSummary& l) {
  return {{"run", l.run_id}, {"model", l.model}, {"calls", l.calls}, {"tokens_in", l.tokens_in},
          {"tokens_out", l.tokens_out}, {"cost_usd", l.cost_usd}, {"latency_s", l.latency_s},
          {"failures", l.failures}, {"wins", l.wins}, {"reintroduced", l.reintroduced}};
}

json LedgerEntryJson(const archive::LedgerEntry& l) {
  return {{"id", l.id}, {"run", l.run_id}, {"candidate", l.candidate_id ? json(*l.candidate_id) : json(nullptr)},
          {"model", l.model}, {"tokens_in", l.tokens_in}, {"tokens_out", l.tokens_out}, {"cost_usd", l.cost_usd},
          {"latency_s", l.latency_s}, {"outcome", l.outcome}, {"error", l.error}, {"created_at", l.created_at}};
}

json LineageJson(const std::vector<archive::Row>& lin, const evaluators::TaskSpec& spec) {
  json arr = json::array();
  for (std::size_t i = 0; i < lin.size(); ++i) {
    json j = RowJson(lin[i]);
    const auto& cur = lin[i].best;
    const auto* prev = i + 1 < lin.size() && lin[i + 1].best ? &*lin[i + 1].best : nullptr;
    if (cur && prev) {
      auto name = MainMetric(spec, *cur);
      auto x = cur->metrics.Get(name), y = prev->metrics.Get(name);
      if (x && y && *y != 0) j["change"] = (*x - *y) / std::fabs(*y);
    }
    arr.push_back(j);
  }
  return arr;
}

json ShowJson(const archive::Row& row, const std::vector<archive::Evaluation>& evals,
              const std::vector<archive::Row>& lin, const std::vector<std::string>& measured) {
  json j = RowJson(row);
  j["source"] = row.candidate.source;
  j["edit"] = row.candidate.edit;
  json ev = json::array();
  for (const auto& e : evals) {
    json x;
    PutMetrics(x, e);
    x["feedback"] = e.feedback;
    ev.push_back(x);
  }
  j["evaluations"] = ev;
  json anc = json::array();
  for (std::size_t i = 1; i < lin.size(); ++i) anc.push_back(lin[i].candidate.id);
  j["ancestors"] = anc;
  j["measured_on"] = measured;
  return j;
}

json SearchJson(const std::vector<archive::Row>& rows, const std::vector<archive::AttemptRow>& attempts) {
  json arr = json::array();
  for (const auto& r : rows) {
    json j = RowJson(r);
    j["kind"] = "candidate";
    arr.push_back(j);
  }
  for (const auto& t : attempts) {
    json j = AttemptJson(t);
    j["kind"] = "attempt";
    arr.push_back(j);
  }
  return arr;
}

Specs::Specs(const std::vector<std::string>& dirs, archive::Archive* archive) {
  std::vector<std::string> all = dirs;
  if (archive)
    for (auto& d : RememberedTaskDirs(*archive)) all.push_back(std::move(d));
  if (auto t = LookupTasks(all)) registry_ = std::move(t->registry);
}

const evaluators::TaskSpec& Specs::For(const std::string& task) {
  if (const auto* s = registry_.Find(task)) return *s;
  auto& f = fallback_[task];
  f.name = task;
  f.minimise = "energy_j";
  return f;
}

}  // namespace ergon::engine
