// Aggregates for the dashboard: each view's numbers come from one or two SQL
// statements, never from loading every row into ergon.
#include <algorithm>
#include <map>

#include <fmt/core.h>

#include "archive/impl.h"

namespace ergon::archive {

using internal::Stmt;

namespace {

template <class T>
Result<T> Failed(const Stmt& s) {
  return tl::unexpected(s.error().empty() ? std::string("query failed") : s.error());
}

}  // namespace

Result<std::vector<RunStats>> Archive::AllRunStats() {
  // One grouped pass per table; runs without rows in a table get zeros.
  Stmt s(impl_->db, R"sql(
    SELECT r.id, coalesce(t.n, 0), coalesce(l.n, 0), coalesce(l.tokens, 0), coalesce(l.cost, 0),
      max(coalesce(c.last, 0), coalesce(t.last, 0), coalesce(l.last, 0), coalesce(v.last, 0), r.started_at,
          coalesce(r.ended_at, 0))
    FROM runs r
    LEFT JOIN (SELECT run_id, max(created_at) last FROM candidates GROUP BY run_id) c ON c.run_id = r.id
    LEFT JOIN (SELECT run_id, count(*) n, max(created_at) last FROM attempts GROUP BY run_id) t ON t.run_id = r.id
    LEFT JOIN (SELECT run_id, count(*) n, sum(tokens_in + tokens_out) tokens, sum(cost_usd) cost,
                      max(created_at) last FROM ledger GROUP BY run_id) l ON l.run_id = r.id
    LEFT JOIN (SELECT run_id, max(created_at) last FROM events GROUP BY run_id) v ON v.run_id = r.id
    ORDER BY r.id)sql");
  std::vector<RunStats> out;
  std::map<std::int64_t, std::size_t> at;
  while (s.Step()) {
    RunStats r;
    r.run_id = s.Int(0);
    r.attempts = s.Int(1);
    r.calls = s.Int(2);
    r.tokens = s.Int(3);
    r.cost_usd = s.Real(4);
    r.last_activity = s.Real(5);
    at[r.run_id] = out.size();
    out.push_back(r);
  }
  if (!s.ok() || s.failed()) return Failed<std::vector<RunStats>>(s);
  auto outcomes = Outcomes(std::nullopt);
  if (!outcomes) return tl::unexpected(outcomes.error());
  for (const auto& [run, counts] : *outcomes)
    if (auto it = at.find(run); it != at.end()) out[it->second].outcomes = counts;
  return out;
}

Result<std::map<std::int64_t, OutcomeCounts>> Archive::Outcomes(std::optional<std::int64_t> run_id) {
  // Candidates and failed attempts by run and by what decides their outcome
  // (a handful of groups), named by outcome.h. The baseline is no attempt.
  std::map<std::int64_t, OutcomeCounts> out;
  Stmt c(impl_->db, R"sql(
    SELECT run_id, status = 'failed', gate_passed, count(*) FROM candidates
    WHERE parent_id IS NOT NULL AND run_id IS NOT NULL AND (?1 IS NULL OR run_id = ?1)
    GROUP BY run_id, status = 'failed', gate_passed)sql");
  c.Bind(1, run_id);
  while (c.Step())
    out[c.Int(0)][CandidateOutcome(c.Int(1) ? CandidateStatus::kFailed : CandidateStatus::kEvaluated, c.Int(2) != 0)] += c.Int(3);
  if (!c.ok() || c.failed()) return Failed<std::map<std::int64_t, OutcomeCounts>>(c);
  Stmt a(impl_->db, R"sql(
    SELECT run_id, stage, count(*) FROM attempts
    WHERE run_id IS NOT NULL AND (?1 IS NULL OR run_id = ?1) GROUP BY run_id, stage)sql");
  a.Bind(1, run_id);
  while (a.Step()) out[a.Int(0)][AttemptOutcome(a.Text(1))] += a.Int(2);
  if (!a.ok() || a.failed()) return Failed<std::map<std::int64_t, OutcomeCounts>>(a);
  return out;
}

Result<std::vector<ProgressPoint>> Archive::Progress(std::int64_t run_id, const std::string& metric,
                                                     std::int64_t after_eval) {
  // The whole history walks the run's candidates through candidates_by_run
  // (never their rows) and is put in time order here; a poll for what is new
  // walks the newest evaluations by id instead, and stops where they end.
  Stmt s(impl_->db, after_eval > 0 ? R"sql(
    SELECT e.id, c.id, e.created_at, e.suite, e.status, c.status, e.gate_passed, m.value
    FROM evaluations e CROSS JOIN candidates c
    LEFT JOIN evaluation_metrics m ON m.evaluation_id = e.id AND m.name = ?2
    WHERE e.id > ?3 AND c.id = e.candidate_id AND c.run_id = ?1)sql"
                                   : R"sql(
    SELECT e.id, c.id, e.created_at, e.suite, e.status, c.status, e.gate_passed, m.value
    FROM candidates c JOIN evaluations e ON e.candidate_id = c.id
    LEFT JOIN evaluation_metrics m ON m.evaluation_id = e.id AND m.name = ?2
    WHERE c.run_id = ?1 AND e.id > ?3)sql");
  s.Bind(1, run_id).Bind(2, metric).Bind(3, after_eval);
  std::vector<ProgressPoint> out;
  while (s.Step()) {
    ProgressPoint p;
    p.eval_id = s.Int(0);
    p.candidate_id = s.Int(1);
    p.at = s.Real(2);
    p.suite = s.Text(3);
    p.eval_status = s.Text(4);
    p.candidate_status = ParseCandidateStatus(s.Text(5)).value_or(CandidateStatus::kEvaluated);
    p.gate_passed = s.Int(6) != 0;
    p.value = s.OptReal(7);
    out.push_back(std::move(p));
  }
  if (!s.ok() || s.failed()) return Failed<std::vector<ProgressPoint>>(s);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.eval_id < b.eval_id; });
  return out;
}

Result<std::vector<ScatterPoint>> Archive::Scatter(const std::string& task, const std::string& x_metric,
                                                   const std::string& y_metric, int limit) {
  // Every k-th candidate by id, so the picture keeps its shape at any size,
  // plus the whole front (it is what the view is about). Ids of one task are
  // spread over other tasks' ids, so this is about `limit`, not exactly.
  Stmt n(impl_->db, "SELECT count(*) FROM candidates WHERE task = ?");
  n.Bind(1, task);
  if (!n.Step()) return Failed<std::vector<ScatterPoint>>(n);
  const std::int64_t total = n.Int(0);
  const std::int64_t step = limit > 0 && total > limit ? (total + limit - 1) / limit : 1;
  Stmt s(impl_->db, R"sql(
    SELECT c.id, x.value, y.value, c.gate_passed, c.on_front, c.status
    FROM candidates c
    LEFT JOIN evaluation_metrics x ON x.evaluation_id = c.primary_eval AND x.name = ?2
    LEFT JOIN evaluation_metrics y ON y.evaluation_id = c.primary_eval AND y.name = ?3
    WHERE c.task = ?1 AND (c.on_front = 1 OR c.id % ?4 = 0) ORDER BY c.id)sql");
  s.Bind(1, task).Bind(2, x_metric).Bind(3, y_metric).Bind(4, step);
  std::vector<ScatterPoint> out;
  while (s.Step()) {
    ScatterPoint p;
    p.id = s.Int(0);
    p.x = s.OptReal(1);
    p.y = s.OptReal(2);
    p.gate_passed = s.Int(3) != 0;
    p.on_front = s.Int(4) != 0;
    p.status = ParseCandidateStatus(s.Text(5)).value_or(CandidateStatus::kEvaluated);
    out.push_back(std::move(p));
  }
  if (!s.ok() || s.failed()) return Failed<std::vector<ScatterPoint>>(s);
  return out;
}

Result<std::vector<PhyloNode>> Archive::Phylogeny(const std::string& task, std::int64_t run_id,
                                                  const std::string& metric, int limit) {
  const std::string idea = schema_version_ >= 9 ? "c.idea" : "''";
  // Each candidate's model, from its ledger row (no index leads from a
  // candidate to its call: one pass over the run's calls instead).
  std::map<std::int64_t, std::string> model_of;
  {
    Stmt l(impl_->db, "SELECT candidate_id, model FROM ledger WHERE candidate_id IS NOT NULL AND (?1 = 0 OR run_id = ?1)");
    l.Bind(1, run_id);
    while (l.Step()) model_of.emplace(l.Int(0), l.Text(1));
    if (!l.ok() || l.failed()) return Failed<std::vector<PhyloNode>>(l);
  }
  Stmt s(impl_->db, (R"sql(
    SELECT id, parent, value, gate, status, idea FROM (
      SELECT c.id AS id, coalesce(c.parent_id, 0) AS parent, m.value AS value, c.gate_passed AS gate,
             c.status AS status, )sql" + idea + R"sql( AS idea
      FROM candidates c
      LEFT JOIN evaluation_metrics m ON m.evaluation_id = c.primary_eval AND m.name = ?2
      WHERE c.task = ?1 AND (?3 = 0 OR c.run_id = ?3 OR c.parent_id IS NULL)
      ORDER BY c.id DESC LIMIT ?4) ORDER BY id)sql").c_str());
  s.Bind(1, task).Bind(2, metric).Bind(3, run_id).Bind(4, limit > 0 ? limit : -1);
  std::vector<PhyloNode> out;
  while (s.Step()) {
    PhyloNode p;
    p.id = s.Int(0);
    p.parent = s.Int(1);
    p.value = s.OptReal(2);
    p.gate_passed = s.Int(3) != 0;
    p.status = ParseCandidateStatus(s.Text(4)).value_or(CandidateStatus::kEvaluated);
    p.idea = s.Text(5);
    if (auto it = model_of.find(p.id); it != model_of.end()) p.model = it->second;
    out.push_back(std::move(p));
  }
  if (!s.ok() || s.failed()) return Failed<std::vector<PhyloNode>>(s);
  return out;
}

Result<std::vector<Row>> Archive::Children(std::int64_t id, std::int64_t after, int limit) {
  Stmt s(impl_->db, "SELECT id FROM candidates WHERE parent_id = ? AND id > ? ORDER BY id LIMIT ?");
  s.Bind(1, id).Bind(2, after).Bind(3, limit > 0 ? limit : -1);
  std::vector<std::int64_t> ids;
  while (s.Step()) ids.push_back(s.Int(0));
  if (!s.ok() || s.failed()) return Failed<std::vector<Row>>(s);
  std::vector<Row> out;
  for (auto child : ids) {
    auto r = Get(child, 0);
    if (!r) return tl::unexpected(r.error());
    if (*r) out.push_back(std::move(**r));
  }
  return out;
}

Result<std::optional<std::int64_t>> Archive::Baseline(const std::string& task) {
  Stmt s(impl_->db, "SELECT id FROM candidates WHERE task = ? AND parent_id IS NULL ORDER BY id LIMIT 1");
  s.Bind(1, task);
  if (s.Step()) return std::optional<std::int64_t>(s.Int(0));
  if (!s.ok() || s.failed()) return Failed<std::optional<std::int64_t>>(s);
  return std::optional<std::int64_t>();
}

Result<std::optional<std::pair<std::int64_t, double>>> Archive::BestOfRun(std::int64_t run_id,
                                                                          const std::string& metric,
                                                                          bool higher_first) {
  // Down the metric's index from the best value, to the first that is this
  // run's, adjudicated, and its candidate's primary evaluation: a few rows
  // in the usual case, instead of every candidate of the run.
  const std::string sql = fmt::format(
      "SELECT c.id, m.value FROM evaluation_metrics m CROSS JOIN evaluations e CROSS JOIN candidates c "
      "WHERE m.name = ?2 AND e.id = m.evaluation_id AND c.id = e.candidate_id AND c.primary_eval = e.id "
      "AND c.run_id = ?1 AND c.gate_passed = 1 AND c.status NOT IN ('overfit', 'pending') "
      "ORDER BY m.value {}, c.id LIMIT 1",  // a tie goes to the earliest, as everywhere
      higher_first ? "DESC" : "ASC");
  Stmt s(impl_->db, sql.c_str());
  s.Bind(1, run_id).Bind(2, metric);
  using Best = std::optional<std::pair<std::int64_t, double>>;
  if (s.Step()) return Best(std::make_pair(s.Int(0), s.Real(1)));
  if (!s.ok() || s.failed()) return Failed<Best>(s);
  return Best();
}

Result<std::vector<LedgerEntry>> Archive::LedgerRows(std::int64_t run_id, std::optional<std::int64_t> candidate,
                                                     int limit) {
  Stmt s(impl_->db, R"sql(
    SELECT id, coalesce(run_id, 0), candidate_id, model, tokens_in, tokens_out, cost_usd, latency_s, outcome, error,
           created_at
    FROM ledger WHERE (?1 = 0 OR run_id = ?1) AND (?2 IS NULL OR candidate_id = ?2) ORDER BY id DESC LIMIT ?3)sql");
  s.Bind(1, run_id).Bind(2, candidate).Bind(3, limit > 0 ? limit : -1);
  std::vector<LedgerEntry> out;
  while (s.Step()) {
    LedgerEntry l;
    l.id = s.Int(0);
    l.run_id = s.Int(1);
    l.candidate_id = s.OptInt(2);
    l.model = s.Text(3);
    l.tokens_in = s.Int(4);
    l.tokens_out = s.Int(5);
    l.cost_usd = s.Real(6);
    l.latency_s = s.Real(7);
    l.outcome = s.Text(8);
    l.error = s.Text(9);
    l.created_at = s.Real(10);
    out.push_back(std::move(l));
  }
  if (!s.ok() || s.failed()) return Failed<std::vector<LedgerEntry>>(s);
  return out;
}

Result<std::vector<LedgerBucket>> Archive::LedgerTimeline(std::int64_t run_id, double bucket_s) {
  if (!(bucket_s > 0)) return tl::unexpected(std::string("bucket must be a positive number of seconds"));
  Stmt s(impl_->db, R"sql(
    SELECT CAST(created_at / ?2 AS INTEGER) * ?2 b, model, outcome, count(*), sum(tokens_in), sum(tokens_out),
           sum(cost_usd)
    FROM ledger WHERE ?1 = 0 OR run_id = ?1 GROUP BY b, model, outcome ORDER BY b, model, outcome)sql");
  s.Bind(1, run_id).Bind(2, bucket_s);
  std::vector<LedgerBucket> out;
  while (s.Step()) {
    LedgerBucket b;
    b.start = s.Real(0);
    b.model = s.Text(1);
    b.outcome = s.Text(2);
    b.calls = s.Int(3);
    b.tokens_in = s.Int(4);
    b.tokens_out = s.Int(5);
    b.cost_usd = s.Real(6);
    out.push_back(std::move(b));
  }
  if (!s.ok() || s.failed()) return Failed<std::vector<LedgerBucket>>(s);
  return out;
}

}  // namespace ergon::archive
