#include "engine/serve/api.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <optional>
#include <set>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "engine/evaluate.h"
#include "base/shell_quote.h"
#include "engine/study_report.h"
#include "genome/diff.h"

namespace ergon::engine::serve {
namespace {

using json = nlohmann::json;

// A run that wrote nothing for this long is not called live: a run whose
// process died leaves status "running" behind.
constexpr double kLiveWithinS = 300;
// Sources above this are not diffed for the page (a generated IR runs to
// megabytes; `ergon archive diff` still does it).
constexpr std::size_t kMaxDiffBytes = 1 << 20;

ApiReply Error(int status, const std::string& message) { return {status, json{{"error", message}}.dump()}; }
ApiReply Ok(const json& j) { return {200, j.dump(-1, ' ', false, json::error_handler_t::replace)}; }

double Now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

// A whole decimal number within [lo, hi], or the default when absent.
tl::expected<std::int64_t, std::string> IntParam(const Params& p, const std::string& name, std::int64_t fallback,
                                                 std::int64_t lo, std::int64_t hi) {
  auto it = p.find(name);
  if (it == p.end() || it->second.empty()) return fallback;
  std::int64_t v = 0;
  const auto& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi)
    return tl::unexpected(fmt::format("parameter {}: expected a whole number from {} to {}, got '{}'", name, lo, hi,
                                      s.substr(0, 40)));
  return v;
}

std::string Param(const Params& p, const std::string& name) {
  auto it = p.find(name);
  return it == p.end() ? std::string() : it->second;
}

json SpecJson(const evaluators::TaskSpec& s) {
  return {{"name", s.name}, {"gate_metric", s.gate_metric}, {"gate_min", s.gate_min}, {"bands", s.bands},
          {"minimise", s.minimise}, {"metrics", s.metrics}, {"summary", s.summary}};
}

// The metric a run's chart and ranking use, and the run's best under it:
// the task's minimised metric, or wall_s for a run measured under the wall
// meter (no energy). A run with nothing valid is not searched for a best.
struct RunBest {
  std::string metric;
  std::optional<std::pair<std::int64_t, double>> best;
};
RunBest BestOf(archive::Archive& a, const archive::Run& run, const evaluators::TaskSpec& spec, bool any_valid) {
  if (!any_valid) return {spec.minimise, std::nullopt};
  if (auto best = a.BestOfRun(run.id, spec.minimise, false); best && *best) return {spec.minimise, *best};
  if (auto best = a.BestOfRun(run.id, "wall_s", false); best && *best) return {"wall_s", *best};
  return {spec.minimise, std::nullopt};
}

}  // namespace

namespace {

class Handler {
 public:
  Handler(archive::Archive& a, Specs& specs, const std::string& db,
          std::map<std::pair<std::int64_t, std::string>, Api::ProgressCache>& progress)
      : a_(a), specs_(specs), db_(db), progress_(progress) {}

  ApiReply Runs() {
    auto runs = a_.Runs();
    if (!runs) return Error(500, runs.error());
    auto stats = a_.AllRunStats();
    if (!stats) return Error(500, stats.error());
    std::map<std::int64_t, archive::RunStats> by_run;
    for (const auto& s : *stats) by_run[s.run_id] = s;
    const double now = Now();
    json arr = json::array();
    for (const auto& r : *runs) {
      json j = RunJson(r);
      const auto& s = by_run[r.id];
      // As `archive runs --json` has them.
      j["candidates"] = s.outcomes.candidates();
      j["outcomes"] = OutcomesJson(s.outcomes);
      const auto& spec = specs_.For(r.task);
      const std::int64_t passed = s.outcomes[archive::Outcome::kPassedGate];
      const RunBest rb = BestOf(a_, r, spec, passed > 0);
      const std::string& metric = rb.metric;
      const double span = std::max(s.last_activity - r.started_at, 1.0);
      const std::int64_t candidates = s.outcomes.candidates();
      json st = {{"candidates", candidates}, {"outcomes", OutcomesJson(s.outcomes)},
                 {"passed_gate_share", candidates ? static_cast<double>(passed) / static_cast<double>(candidates) : 0},
                 {"attempts", s.attempts}, {"calls", s.calls}, {"tokens", s.tokens}, {"cost_usd", s.cost_usd},
                 {"last_activity", s.last_activity}, {"per_hour", static_cast<double>(candidates) * 3600 / span},
                 {"metric", metric}};
      const bool running = r.status == archive::RunStatus::kRunning;
      st["live"] = running && now - s.last_activity < kLiveWithinS;
      st["state"] = !running ? archive::StatusName(r.status) : (st["live"].get<bool>() ? "live" : "silent");
      if (rb.best) {
        st["best"] = {{"id", rb.best->first}, {"value", rb.best->second}};
        if (auto base = BaselineValue(r.task, metric); base && *base != 0) st["best_vs_baseline"] = rb.best->second / *base;
      }
      j["stats"] = st;
      arr.push_back(j);
    }
    return Ok(arr);
  }

  std::size_t Warm() {
    auto runs = a_.Runs();
    if (!runs) return 0;
    for (const auto& r : *runs) (void)Points(r.id, BestOf(a_, r, specs_.For(r.task), true).metric, INT64_MAX);
    std::size_t n = 0;
    for (const auto& [key, cache] : progress_) n += cache.points.size();
    return n;
  }

  ApiReply Progress(std::int64_t run_id, const Params& p) {
    auto after = IntParam(p, "after", 0, 0, INT64_MAX);
    auto max = IntParam(p, "max", 4000, 10, 1000000);
    if (!after || !max) return Error(400, !after ? after.error() : max.error());
    auto run = a_.GetRun(run_id);
    if (!run) return Error(500, run.error());
    if (!*run) return Error(404, fmt::format("no run {}", run_id));
    const auto& spec = specs_.For((*run)->task);
    const std::string metric = BestOf(a_, **run, spec, true).metric;
    auto points = Points(run_id, metric, *after);
    if (!points) return Error(500, points.error());
    // Every improvement and adjudication is kept; the rest is thinned to
    // about `max` points so a 100,000-evaluation run draws in one frame.
    const std::size_t n = points->size();
    const std::size_t step = n > static_cast<std::size_t>(*max) ? (n + *max - 1) / *max : 1;
    json rows = json::array(), best = json::array();
    std::optional<double> best_value;
    std::int64_t last = *after;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& q = (*points)[i];
      last = q.eval_id;
      const bool adjudication = q.suite == "fresh";
      const bool valid = q.gate_passed && q.eval_status == "ok";
      // Dev-suite points by outcome (outcome.h's keys); fresh-suite ones by verdict.
      std::string kind = adjudication ? (q.candidate_status == archive::CandidateStatus::kOverfit ? "rejected" : "confirmed")
                                      : archive::OutcomeKey(q.eval_status != "ok" ? archive::Outcome::kDidNotRun
                                                            : valid ? archive::Outcome::kPassedGate
                                                                    : archive::Outcome::kFailedGate);
      bool improved = false;
      if (!adjudication && valid && q.value && q.candidate_status != archive::CandidateStatus::kOverfit &&
          (!best_value || *q.value < *best_value)) {
        best_value = q.value;
        improved = true;
        best.push_back({{"e", q.eval_id}, {"c", q.candidate_id}, {"t", q.at}, {"v", *q.value}});
      }
      if (!improved && !adjudication && i % step != 0 && i + 1 != n) continue;
      rows.push_back({{"e", q.eval_id}, {"c", q.candidate_id}, {"t", q.at},
                      {"v", q.value ? json(*q.value) : json(nullptr)}, {"k", kind}});
    }
    // The run itself comes along, so the progress page needs no other call.
    return Ok({{"run", run_id}, {"run_info", RunJson(**run)}, {"task", (*run)->task}, {"metric", metric},
               {"status", (*run)->status},
               {"total", n}, {"shown", rows.size()}, {"last", last}, {"points", rows}, {"best", best}});
  }

  ApiReply Candidates(const Params& p) {
    auto run = IntParam(p, "run", 0, 0, INT64_MAX);
    auto limit = IntParam(p, "limit", 50, 1, 1000);
    auto offset = IntParam(p, "offset", 0, 0, INT32_MAX);
    if (!run || !limit || !offset) return Error(400, !run ? run.error() : !limit ? limit.error() : offset.error());
    archive::ListFilter f;
    if (*run) f.run_id = *run;
    f.task = Param(p, "task");
    const std::string status = Param(p, "status");
    f.status = archive::ParseCandidateStatus(status);
    if (!status.empty() && !f.status)
      return Error(400, "parameter status: evaluated, pending, overfit or failed");
    f.limit = static_cast<int>(*limit);
    f.offset = static_cast<int>(*offset);
    return Rows(a_.List(f));
  }

  ApiReply Candidate(std::int64_t id) {
    auto row = a_.Get(id);
    if (!row) return Error(500, row.error());
    if (!*row) return Error(404, fmt::format("no candidate {}", id));
    auto evals = a_.Evaluations(id);
    auto lin = a_.Lineage(id);
    auto ledger = a_.LedgerRows(0, id, 100);
    if (!evals || !lin || !ledger)
      return Error(500, !evals ? evals.error() : !lin ? lin.error() : ledger.error());
    const auto& c = (*row)->candidate;
    std::vector<std::string> measured;
    if (auto ev = a_.CandidateEvents(id, "measured"))
      for (const auto& e : *ev) measured.push_back(e.message);
    json j = ShowJson(**row, *evals, *lin, measured);
    const auto& spec = specs_.For(c.task);
    j["spec"] = SpecJson(spec);
    if ((*row)->best) j["main_metric"] = MainMetric(spec, *(*row)->best);
    json led = json::array();
    for (const auto& l : *ledger) led.push_back(LedgerEntryJson(l));
    j["ledger"] = led;
    j["replay"] = fmt::format("ergon replay {} --db {}", c.id, base::ShellQuote(db_));
    if (c.reintroduced > 0)
      if (auto ev = a_.CandidateEvents(id, "reintroduced"); ev && !ev->empty()) j["reintroduced_note"] = ev->back().message;
    if (c.parent) {
      auto parent = a_.Get(*c.parent);
      if (parent && *parent) {
        const auto& ps = (*parent)->candidate.source;
        if (ps.size() > kMaxDiffBytes || c.source.size() > kMaxDiffBytes) {
          j["parent_diff_omitted"] = fmt::format("sources over {} bytes: `ergon archive diff {} {}` prints it",
                                                 kMaxDiffBytes, *c.parent, c.id);
        } else {
          genome::DiffOptions o;
          o.from_name = fmt::format("candidate {}", *c.parent);
          o.to_name = fmt::format("candidate {}", c.id);
          j["parent_diff"] = genome::UnifiedDiff(ps, c.source, o);
        }
      }
    }
    return Ok(j);
  }

  ApiReply Lineage(std::int64_t id) {
    auto row = a_.Get(id, 0);
    if (!row) return Error(500, row.error());
    if (!*row) return Error(404, fmt::format("no candidate {}", id));
    auto lin = a_.Lineage(id);
    if (!lin) return Error(500, lin.error());
    return Ok(LineageJson(*lin, specs_.For((*row)->candidate.task)));
  }

  ApiReply Children(std::int64_t id, const Params& p) {
    auto after = IntParam(p, "after", 0, 0, INT64_MAX);
    auto limit = IntParam(p, "limit", 100, 1, 1000);
    if (!after || !limit) return Error(400, !after ? after.error() : limit.error());
    return Rows(a_.Children(id, *after, static_cast<int>(*limit)));
  }

  ApiReply Pareto(const Params& p) { return Rows(a_.Pareto(Param(p, "task"))); }

  ApiReply Scatter(const Params& p) {
    const std::string task = Param(p, "task");
    if (task.empty()) return Error(400, "parameter task is required");
    auto limit = IntParam(p, "limit", 3000, 10, 100000);
    if (!limit) return Error(400, limit.error());
    const auto& spec = specs_.For(task);
    std::string y = spec.minimise;
    auto pts = a_.Scatter(task, spec.gate_metric, y, static_cast<int>(*limit));
    if (!pts) return Error(500, pts.error());
    // Runs under the wall meter measure no energy: rank by time, as they did.
    const auto measured = [](const std::vector<archive::ScatterPoint>& v) {
      for (const auto& q : v)
        if (q.y) return true;
      return false;
    };
    if (!measured(*pts)) {
      auto by_time = a_.Scatter(task, spec.gate_metric, "wall_s", static_cast<int>(*limit));
      if (by_time && measured(*by_time)) {
        y = "wall_s";
        pts = std::move(by_time);
      }
    }
    json arr = json::array();
    for (const auto& q : *pts)
      arr.push_back({{"id", q.id}, {"x", q.x ? json(*q.x) : json(nullptr)}, {"y", q.y ? json(*q.y) : json(nullptr)},
                     {"gate", q.gate_passed}, {"front", q.on_front}, {"status", archive::StatusName(q.status)}});
    return Ok({{"task", task}, {"spec", SpecJson(spec)}, {"x_metric", spec.gate_metric}, {"y_metric", y},
               {"points", arr}});
  }

  // The phylogeny: every candidate (the newest `limit`) as compact rows
  // [id, parent, value, gate, idea, model, record], ideas and models by
  // index, and the records (each new best in the order of evaluation) with
  // the idea that made each.
  ApiReply Phylogeny(const Params& p) {
    const std::string task = Param(p, "task");
    if (task.empty()) return Error(400, "parameter task is required");
    auto run = IntParam(p, "run", 0, 0, INT64_MAX);
    if (!run) return Error(400, run.error());
    auto limit = IntParam(p, "limit", 20000, 10, 200000);
    if (!limit) return Error(400, limit.error());
    const auto& spec = specs_.For(task);
    auto nodes = a_.Phylogeny(task, *run, spec.minimise, static_cast<int>(*limit));
    if (!nodes) return Error(500, nodes.error());
    std::map<std::string, int> idea_at, model_at;
    json ideas = json::array(), models = json::array(), rows = json::array(), records = json::array();
    std::map<std::int64_t, double> value_of;
    std::optional<double> best;
    for (const auto& n : *nodes) {
      auto index = [](std::map<std::string, int>& at, json& names, const std::string& name) {
        auto [it, fresh] = at.emplace(name, static_cast<int>(names.size()));
        if (fresh) names.push_back(name);
        return it->second;
      };
      const bool counts = n.gate_passed && n.value && n.status != archive::CandidateStatus::kOverfit &&
                          n.status != archive::CandidateStatus::kPending;
      const bool record = counts && (!best || *n.value < *best);
      if (n.value) value_of[n.id] = *n.value;
      if (record) {
        const auto parent_value = value_of.find(n.parent);
        records.push_back({{"id", n.id}, {"parent", n.parent ? json(n.parent) : json(nullptr)}, {"idea", n.idea},
                           {"model", n.model}, {"value", *n.value},
                           {"parent_value", parent_value == value_of.end() ? json(nullptr) : json(parent_value->second)},
                           {"previous", best ? json(*best) : json(nullptr)}});
        best = n.value;
      }
      rows.push_back({n.id, n.parent, n.value ? json(*n.value) : json(nullptr), n.gate_passed ? 1 : 0,
                      index(idea_at, ideas, n.idea), index(model_at, models, n.model), record ? 1 : 0});
    }
    return Ok({{"task", task}, {"metric", spec.minimise}, {"nodes", rows}, {"ideas", ideas}, {"models", models},
               {"records", records}});
  }

  // Studies (`ergon study`): each name and task with its arms, and one
  // study's report (engine/study_report.h) with every run's curve.
  ApiReply Studies() {
    auto runs = a_.Runs();
    if (!runs) return Error(500, runs.error());
    std::map<std::pair<std::string, std::string>, std::pair<std::vector<std::string>, int>> found;
    for (const auto& r : *runs) {
      const json st = json::parse(r.settings, nullptr, false);
      if (!st.is_object() || !st.contains("study") || !st["study"].is_object()) continue;
      auto& [arms, n] = found[{st["study"].value("name", ""), r.task}];
      const std::string arm = st["study"].value("arm", "");
      if (std::find(arms.begin(), arms.end(), arm) == arms.end()) arms.push_back(arm);
      ++n;
    }
    json arr = json::array();
    for (const auto& [key, v] : found)
      arr.push_back({{"name", key.first}, {"task", key.second}, {"arms", v.first}, {"runs", v.second}});
    return Ok(arr);
  }

  ApiReply Study(const Params& p) {
    const std::string name = Param(p, "name"), task = Param(p, "task");
    if (name.empty() || task.empty()) return Error(400, "parameters name and task are required");
    const ApiReply list = Studies();
    if (list.status != 200) return list;
    std::vector<std::string> arms;
    for (const auto& s : json::parse(list.body))
      if (s["name"] == name && s["task"] == task) arms = s["arms"].get<std::vector<std::string>>();
    if (arms.empty()) return Error(404, "no study " + name + " on " + task);
    auto report = ReadStudy(a_, name, task, specs_.For(task).minimise, arms, std::nullopt);
    if (!report) return Error(500, report.error());
    return Ok(json::parse(StudyJson(*report)));
  }

  ApiReply Tasks() {
    auto runs = a_.Runs();
    if (!runs) return Error(500, runs.error());
    std::set<std::string> names;
    for (const auto& r : *runs) names.insert(r.task);
    json arr = json::array();
    for (const auto& n : names) arr.push_back(SpecJson(specs_.For(n)));
    return Ok(arr);
  }

  ApiReply Ledger(const Params& p) {
    auto led = a_.Ledger();
    if (!led) return Error(500, led.error());
    auto run = IntParam(p, "run", 0, 0, INT64_MAX);
    if (!run) return Error(400, run.error());
    json arr = json::array();
    for (const auto& l : *led)
      if (!*run || l.run_id == *run) arr.push_back(LedgerSummaryJson(l));
    return Ok(arr);
  }

  ApiReply LedgerTimeline(const Params& p) {
    auto run = IntParam(p, "run", 0, 0, INT64_MAX);
    auto bucket = IntParam(p, "bucket", 600, 1, 86400 * 366);
    if (!run || !bucket) return Error(400, !run ? run.error() : bucket.error());
    auto rows = a_.LedgerTimeline(*run, static_cast<double>(*bucket));
    if (!rows) return Error(500, rows.error());
    json arr = json::array();
    for (const auto& b : *rows)
      arr.push_back({{"start", b.start}, {"model", b.model}, {"outcome", b.outcome}, {"calls", b.calls},
                     {"tokens_in", b.tokens_in}, {"tokens_out", b.tokens_out}, {"cost_usd", b.cost_usd}});
    return Ok({{"bucket_s", *bucket}, {"buckets", arr}});
  }

  ApiReply LedgerRows(const Params& p) {
    auto run = IntParam(p, "run", 0, 0, INT64_MAX);
    auto limit = IntParam(p, "limit", 100, 1, 1000);
    if (!run || !limit) return Error(400, !run ? run.error() : limit.error());
    auto rows = a_.LedgerRows(*run, std::nullopt, static_cast<int>(*limit));
    if (!rows) return Error(500, rows.error());
    json arr = json::array();
    for (const auto& l : *rows) arr.push_back(LedgerEntryJson(l));
    return Ok(arr);
  }

  ApiReply Search(const Params& p) {
    const std::string q = Param(p, "q");
    auto limit = IntParam(p, "limit", 50, 1, 500);
    if (!limit) return Error(400, limit.error());
    if (q.find_first_not_of(" \t\r\n") == std::string::npos) return Error(400, "parameter q: nothing to search for");
    auto rows = a_.Search(q, static_cast<int>(*limit));
    if (!rows) return Error(500, rows.error());
    auto attempts = a_.SearchAttempts(q, static_cast<int>(*limit));
    if (!attempts) return Error(500, attempts.error());
    return Ok(SearchJson(*rows, *attempts));
  }

  ApiReply Attempts(const Params& p) {
    auto run = IntParam(p, "run", 0, 0, INT64_MAX);
    auto limit = IntParam(p, "limit", 50, 1, 1000);
    if (!run || !limit) return Error(400, !run ? run.error() : limit.error());
    auto rows = a_.Attempts(*run, static_cast<int>(*limit));
    if (!rows) return Error(500, rows.error());
    json arr = json::array();
    for (const auto& t : *rows) arr.push_back(AttemptJson(t));
    return Ok(arr);
  }

 private:
  // The run's points after eval id `after`, through the cache: only
  // evaluations newer than the cache's last are read from the archive. A
  // fresh-suite verdict lands with its candidate's final status, which the
  // candidate's earlier points then take too, as a whole read would show.
  archive::Result<std::vector<archive::ProgressPoint>> Points(std::int64_t run, const std::string& metric,
                                                              std::int64_t after) {
    auto& cache = progress_[{run, metric}];
    auto fresh = a_.Progress(run, metric, cache.last);
    if (!fresh) return fresh;
    for (auto& p : *fresh) {
      if (p.suite == "fresh")
        for (auto& q : cache.points)
          if (q.candidate_id == p.candidate_id) q.candidate_status = p.candidate_status;
      cache.last = std::max(cache.last, p.eval_id);
      cache.points.push_back(std::move(p));
    }
    auto from = std::upper_bound(cache.points.begin(), cache.points.end(), after,
                                 [](std::int64_t v, const archive::ProgressPoint& p) { return v < p.eval_id; });
    return std::vector<archive::ProgressPoint>(from, cache.points.end());
  }

  ApiReply Rows(const archive::Result<std::vector<archive::Row>>& rows) {
    if (!rows) return Error(500, rows.error());
    json arr = json::array();
    for (const auto& r : *rows) arr.push_back(RowJson(r));
    return Ok(arr);
  }

  std::optional<double> BaselineValue(const std::string& task, const std::string& metric) {
    auto id = a_.Baseline(task);
    if (!id || !*id) return std::nullopt;
    auto row = a_.Get(**id, 0);
    if (!row || !*row || !(*row)->best) return std::nullopt;
    return (*row)->best->metrics.Get(metric);
  }

  archive::Archive& a_;
  Specs& specs_;
  const std::string& db_;
  std::map<std::pair<std::int64_t, std::string>, Api::ProgressCache>& progress_;
};

// "/api/candidates/12" -> 12 after the prefix; nullopt unless the rest is digits.
std::optional<std::int64_t> IdAfter(const std::string& path, const std::string& prefix, std::string* rest) {
  if (path.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::size_t i = prefix.size(), j = i;
  while (j < path.size() && j - i < 18 && path[j] >= '0' && path[j] <= '9') ++j;
  if (j == i) return std::nullopt;
  *rest = path.substr(j);
  return std::stoll(path.substr(i, j - i));
}

}  // namespace

std::size_t Api::Warm() { return Handler(archive_, specs_, db_path_, progress_).Warm(); }

ApiReply Api::Get(const std::string& path, const Params& params) {
  Handler h(archive_, specs_, db_path_, progress_);
  std::string rest;
  if (path == "/api/runs") return h.Runs();
  if (auto id = IdAfter(path, "/api/runs/", &rest); id && rest == "/progress") return h.Progress(*id, params);
  if (path == "/api/candidates") return h.Candidates(params);
  if (auto id = IdAfter(path, "/api/candidates/", &rest); id && rest.empty()) return h.Candidate(*id);
  if (auto id = IdAfter(path, "/api/lineage/", &rest); id && rest.empty()) return h.Lineage(*id);
  if (auto id = IdAfter(path, "/api/children/", &rest); id && rest.empty()) return h.Children(*id, params);
  if (path == "/api/pareto") return h.Pareto(params);
  if (path == "/api/scatter") return h.Scatter(params);
  if (path == "/api/tasks") return h.Tasks();
  if (path == "/api/phylogeny") return h.Phylogeny(params);
  if (path == "/api/studies") return h.Studies();
  if (path == "/api/study") return h.Study(params);
  if (path == "/api/ledger") return h.Ledger(params);
  if (path == "/api/ledger/timeline") return h.LedgerTimeline(params);
  if (path == "/api/ledger/calls") return h.LedgerRows(params);
  if (path == "/api/search") return h.Search(params);
  if (path == "/api/attempts") return h.Attempts(params);
  return Error(404, "no such API path: the README lists them");
}

}  // namespace ergon::engine::serve
