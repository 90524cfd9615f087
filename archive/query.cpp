// Reading the archive: rows for tables and --json, lineage, search, front.
#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/core.h>

#include "archive/impl.h"

namespace ergon::archive {
namespace internal {

const char* const kRowColumns =
    "c.id, c.run_id, c.task, c.parent_id, c.island, c.generation, c.source, c.hash, c.edit, c.intent, c.created_at, "
    "c.children, c.gate_passed, c.best_fitness, c.on_front, c.status, "
    "e.id, e.evaluator_version, e.meter, e.device, e.suite, e.status, e.gate_passed, e.fitness, "
    "e.components, e.feedback, e.created_at, c.source_bytes, c.idea, c.reintroduced";

// The 11 evaluation columns, in the order of kRowColumns' "e." part,
// starting at column `at`.
Evaluation ReadEvaluation(const Stmt& s, int at, std::int64_t candidate_id) {
  Evaluation e;
  e.id = s.Int(at);
  e.candidate_id = candidate_id;
  e.evaluator_version = s.Text(at + 1);
  e.meter = s.Text(at + 2);
  e.device = s.Text(at + 3);
  e.suite = s.Text(at + 4);
  e.status = s.Text(at + 5);
  e.gate_passed = s.Int(at + 6) != 0;
  e.fitness = s.IsNull(at + 7) ? 0 : s.Real(at + 7);
  e.metrics.components = s.Text(at + 8);
  e.feedback = s.Text(at + 9);
  e.created_at = s.Real(at + 10);
  return e;
}

// Metrics live in their own table, one row per name: one indexed lookup per
// evaluation, through one prepared statement.
std::string FillMetrics(sqlite3* db, std::vector<Evaluation*> evals) {
  if (evals.empty()) return {};
  Stmt m(db, "SELECT name, value FROM evaluation_metrics WHERE evaluation_id=?");
  if (!m.ok()) return m.error();
  for (Evaluation* e : evals) {
    m.Reset();
    m.Bind(1, e->id);
    while (m.Step()) e->metrics.values[m.Text(0)] = m.Real(1);
    if (m.failed()) return m.error();
  }
  return {};
}

Row ReadRow(const Stmt& s) {
  Row r;
  Candidate& c = r.candidate;
  c.id = s.Int(0);
  c.run_id = s.IsNull(1) ? 0 : s.Int(1);
  c.task = s.Text(2);
  c.parent = s.OptInt(3);
  c.island = static_cast<int>(s.Int(4));
  c.generation = static_cast<int>(s.Int(5));
  c.source = s.Text(6);
  c.hash = s.Text(7);
  c.edit = s.Text(8);
  c.intent = s.Text(9);
  c.created_at = s.Real(10);
  c.children = static_cast<int>(s.Int(11));
  c.gate_passed = s.Int(12) != 0;
  c.best_fitness = s.IsNull(13) ? 0 : s.Real(13);
  c.on_front = s.Int(14) != 0;
  c.status = ParseCandidateStatus(s.Text(15)).value_or(CandidateStatus::kEvaluated);
  if (!s.IsNull(16)) r.best = ReadEvaluation(s, 16, c.id);
  c.source_bytes = static_cast<std::size_t>(s.Int(27));
  c.idea = s.Text(28);
  c.reintroduced = static_cast<int>(s.Int(29));
  return r;
}

}  // namespace internal

using internal::Stmt;

namespace {

// Lists and summaries leave sources on disk (they can be megabytes); Get()
// reads them.
// `schema`: the file's; a file opened read-only before schema 9 has no idea
// labels (empty) and no re-introduction counts (0).
std::string RowSql(int schema, const std::string& where_and_order, bool with_source = false) {
  std::string cols = internal::kRowColumns;
  if (!with_source) cols.replace(cols.find("c.source,"), 9, "'',");
  if (schema < 9) cols.replace(cols.find("c.idea, c.reintroduced"), 22, "'', 0");
  return fmt::format("SELECT {} FROM candidates c LEFT JOIN evaluations e ON e.id = c.primary_eval {}", cols,
                     where_and_order);
}

template <class BindFn>
Result<std::vector<Row>> Rows(sqlite3* db, const std::string& sql, BindFn bind) {
  Stmt s(db, sql.c_str());
  if (!s.ok()) return tl::unexpected(s.error());
  bind(s);
  std::vector<Row> out;
  while (s.Step()) out.push_back(internal::ReadRow(s));
  if (s.failed()) return tl::unexpected(s.error());
  std::vector<Evaluation*> evals;
  for (auto& r : out)
    if (r.best) evals.push_back(&*r.best);
  if (auto e = internal::FillMetrics(db, evals); !e.empty()) return tl::unexpected(e);
  return out;
}

}  // namespace

Result<std::vector<Run>> Archive::Runs() {
  // Schema 7 added process and stop_reason; an older file read as it is has neither.
  Stmt s(impl_->db, schema_version_ >= 7 ? "SELECT id, task, agent, model, settings, started_at, ended_at, status, "
                                           "process, stop_reason FROM runs ORDER BY id"
                                         : "SELECT id, task, agent, model, settings, started_at, ended_at, status, "
                                           "'', '' FROM runs ORDER BY id");
  std::vector<Run> out;
  while (s.Step()) {
    Run r;
    r.id = s.Int(0);
    r.task = s.Text(1);
    r.agent = s.Text(2);
    r.model = s.Text(3);
    r.settings = s.Text(4);
    r.started_at = s.Real(5);
    r.ended_at = s.IsNull(6) ? 0 : s.Real(6);
    r.status = ParseRunStatus(s.Text(7)).value_or(RunStatus::kStopped);
    r.process = s.Text(8);
    r.stop_reason = s.Text(9);
    out.push_back(r);
  }
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return out;
}

Result<std::optional<std::int64_t>> Archive::FindByHash(const std::string& task, const std::string& hash) {
  Stmt s(impl_->db, "SELECT id FROM candidates WHERE task=? AND hash=?");
  s.Bind(1, task).Bind(2, hash);
  if (s.Step()) return std::optional<std::int64_t>(s.Int(0));
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return std::optional<std::int64_t>();
}

Result<std::optional<Row>> Archive::Get(std::int64_t id, std::size_t max_source_bytes) {
  std::string sql = RowSql(schema_version_, "WHERE c.id = ?1", true);
  // From schema 5 a long source is in blobs; a file opened read-only may be older.
  std::string source = schema_version_ >= 5
                           ? "COALESCE((SELECT ergon_inflate(b.text) FROM blobs b WHERE b.hash = c.source_blob), c.source)"
                           : "c.source";
  // Leave big sources on disk: reading megabytes to show a summary is waste.
  if (max_source_bytes != SIZE_MAX) source = "CASE WHEN c.source_bytes <= ?2 THEN " + source + " ELSE '' END";
  sql.replace(sql.find("c.source,"), 9, source + ",");
  auto rows = Rows(impl_->db, sql, [&](Stmt& s) {
    s.Bind(1, id);
    if (max_source_bytes != SIZE_MAX) s.Bind(2, static_cast<std::int64_t>(max_source_bytes));
  });
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<Row>();
  return std::optional<Row>(rows->front());
}

Result<std::vector<Evaluation>> Archive::Evaluations(std::int64_t candidate_id) {
  Stmt s(impl_->db,
         "SELECT id, evaluator_version, meter, device, suite, status, gate_passed, fitness, "
         "components, feedback, created_at FROM evaluations WHERE candidate_id=? ORDER BY id");
  s.Bind(1, candidate_id);
  std::vector<Evaluation> out;
  while (s.Step()) out.push_back(internal::ReadEvaluation(s, 0, candidate_id));
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  std::vector<Evaluation*> evals;
  for (auto& e : out) evals.push_back(&e);
  if (auto e = internal::FillMetrics(impl_->db, evals); !e.empty()) return tl::unexpected(e);
  return out;
}

Result<std::vector<Row>> Archive::List(const ListFilter& f) {
  std::string where = "WHERE 1=1";
  if (f.run_id) where += " AND c.run_id = ?1";
  if (!f.task.empty()) where += " AND c.task = ?2";
  if (f.status) where += " AND c.status = ?3";
  return Rows(impl_->db, RowSql(schema_version_, where + " ORDER BY c.id DESC LIMIT ?4 OFFSET ?5"), [&](Stmt& s) {
    if (f.run_id) s.Bind(1, *f.run_id);
    if (!f.task.empty()) s.Bind(2, f.task);
    if (f.status) s.Bind(3, StatusName(*f.status));
    s.Bind(4, f.limit > 0 ? f.limit : -1).Bind(5, f.offset > 0 ? f.offset : 0);
  });
}

Result<std::vector<Row>> Archive::Top(const std::string& task, const std::string& by, int limit, bool higher_first,
                                      const RunScope& scope) {
  std::string where = "WHERE c.gate_passed = 1 AND c.status NOT IN ('overfit', 'pending')";
  if (!task.empty()) where += " AND c.task = ?1";
  if (scope.run_id != 0) where += " AND " + internal::ScopeSql("c");
  if (by == "fitness")
    return Rows(impl_->db, RowSql(schema_version_, where + " ORDER BY c.best_fitness IS NULL, c.best_fitness DESC, c.id LIMIT ?2"),
                [&](Stmt& s) {
                  if (!task.empty()) s.Bind(1, task);
                  s.Bind(2, limit > 0 ? limit : -1);
                  if (scope.run_id != 0) internal::BindScope(s, scope);
                });
  // Rank through the metric's own index, then read the rows in that order.
  const std::string sql = fmt::format(
      "SELECT c.id FROM candidates c JOIN evaluation_metrics m ON m.evaluation_id = c.primary_eval AND m.name = ?3 "
      "{} ORDER BY m.value {}, c.id LIMIT ?2",
      where, higher_first ? "DESC" : "ASC");
  Stmt s(impl_->db, sql.c_str());
  if (!s.ok()) return tl::unexpected(s.error());
  if (!task.empty()) s.Bind(1, task);
  s.Bind(2, limit > 0 ? limit : -1).Bind(3, by);
  if (scope.run_id != 0) internal::BindScope(s, scope);
  std::vector<std::int64_t> ids;
  while (s.Step()) ids.push_back(s.Int(0));
  if (s.failed()) return tl::unexpected(s.error());
  std::vector<Row> out;
  for (auto id : ids) {
    auto r = Get(id, 0);
    if (!r) return tl::unexpected(r.error());
    if (*r) out.push_back(**r);
  }
  return out;
}

Result<std::vector<std::string>> Archive::MetricNames(const std::string& task) {
  Stmt s(impl_->db,
         "SELECT DISTINCT m.name FROM evaluation_metrics m JOIN evaluations e ON e.id = m.evaluation_id "
         "JOIN candidates c ON c.id = e.candidate_id WHERE ?1 = '' OR c.task = ?1 ORDER BY m.name");
  s.Bind(1, task);
  std::vector<std::string> out;
  while (s.Step()) out.push_back(s.Text(0));
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return out;
}

namespace {

// Every word must appear; each is quoted so FTS5 syntax in user text is inert.
std::string FtsQuery(const std::string& text) {
  std::string query;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) {
      std::string w;
      for (char c : text.substr(i, j - i)) w += c == '"' ? std::string("\"\"") : std::string(1, c);
      query += (query.empty() ? "\"" : " \"") + w + "\"";
    }
    i = j;
  }
  return query;
}

// Ids from the index, best first, each once: positive for candidates,
// negative for failed attempts.
Result<std::vector<std::int64_t>> FtsIds(sqlite3* db, int schema, const std::string& text, int limit, bool attempts) {
  const std::string query = FtsQuery(text);
  if (query.empty()) return tl::unexpected(std::string("empty search"));
  // FTS5 keeps only the best rows by rank when asked for ORDER BY rank
  // LIMIT; one id can have several rows, so take more and keep each once.
  // Before schema 8 the index held its owners itself (a file opened
  // read-only is not migrated).
  const char* old_sql = attempts
      ? "SELECT -candidate_id FROM search WHERE search MATCH ? AND candidate_id < 0 ORDER BY rank LIMIT ?"
      : "SELECT candidate_id FROM search WHERE search MATCH ? AND candidate_id > 0 ORDER BY rank LIMIT ?";
  Stmt s(db, schema < 8 ? old_sql : attempts ? "SELECT -o.candidate_id FROM search_index s JOIN search_owner o ON o.id = s.rowid "
                        "WHERE search_index MATCH ? AND o.candidate_id < 0 ORDER BY s.rank LIMIT ?"
                      : "SELECT o.candidate_id FROM search_index s JOIN search_owner o ON o.id = s.rowid "
                        "WHERE search_index MATCH ? AND o.candidate_id > 0 ORDER BY s.rank LIMIT ?");
  s.Bind(1, query).Bind(2, limit > 0 ? limit * 4 : -1);
  std::vector<std::int64_t> ids;
  std::set<std::int64_t> seen;
  while (s.Step())
    if (seen.insert(s.Int(0)).second && (limit <= 0 || static_cast<int>(ids.size()) < limit)) ids.push_back(s.Int(0));
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return ids;
}

AttemptRow ReadAttempt(const Stmt& s) {
  AttemptRow a;
  a.id = s.Int(0);
  a.run_id = s.IsNull(1) ? 0 : s.Int(1);
  a.parent = s.OptInt(2);
  a.stage = s.Text(3);
  a.error = s.Text(4);
  a.proposal = s.Text(5);
  a.created_at = s.Real(6);
  return a;
}

}  // namespace

Result<std::vector<Row>> Archive::Search(const std::string& text, int limit) {
  auto ids = FtsIds(impl_->db, schema_version_, text, limit, false);
  if (!ids) return tl::unexpected(ids.error());
  std::vector<Row> out;
  for (auto id : *ids) {
    auto r = Get(id, 0);
    if (!r) return tl::unexpected(r.error());
    if (*r) out.push_back(**r);
  }
  return out;
}

Result<std::vector<AttemptRow>> Archive::SearchAttempts(const std::string& text, int limit) {
  auto ids = FtsIds(impl_->db, schema_version_, text, limit, true);
  if (!ids) return tl::unexpected(ids.error());
  std::vector<AttemptRow> out;
  Stmt s(impl_->db, "SELECT id, run_id, parent_id, stage, error, proposal, created_at FROM attempts WHERE id=?");
  for (auto id : *ids) {
    s.Reset();
    s.Bind(1, id);
    if (s.Step()) out.push_back(ReadAttempt(s));
    if (s.failed()) return tl::unexpected(s.error());
  }
  return out;
}

Result<std::vector<AttemptRow>> Archive::Attempts(std::int64_t run_id, int limit) {
  Stmt s(impl_->db,
         "SELECT id, run_id, parent_id, stage, error, proposal, created_at FROM attempts WHERE ?1 = 0 OR run_id = ?1 "
         "ORDER BY id DESC LIMIT ?2");
  s.Bind(1, run_id).Bind(2, limit > 0 ? limit : -1);
  std::vector<AttemptRow> out;
  while (s.Step()) out.push_back(ReadAttempt(s));
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return out;
}

Result<std::vector<Event>> Archive::CandidateEvents(std::int64_t candidate_id, const std::string& kind) {
  Stmt s(impl_->db, "SELECT coalesce(run_id, 0), message FROM events WHERE candidate_id=? AND kind=? ORDER BY id");
  s.Bind(1, candidate_id).Bind(2, kind);
  std::vector<Event> out;
  while (s.Step()) out.push_back({s.Int(0), kind, candidate_id, s.Text(1)});
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return out;
}

Result<std::vector<std::int64_t>> Archive::Pending(std::int64_t run_id) {
  Stmt s(impl_->db, "SELECT id FROM candidates WHERE run_id=? AND status='pending' ORDER BY id");
  s.Bind(1, run_id);
  std::vector<std::int64_t> out;
  while (s.Step()) out.push_back(s.Int(0));
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return out;
}

Result<std::vector<Row>> Archive::Lineage(std::int64_t id) {
  std::vector<Row> out;
  std::set<std::int64_t> seen;
  std::optional<std::int64_t> cur = id;
  while (cur && seen.insert(*cur).second) {
    auto r = Get(*cur, 0);  // metrics and links; no sources
    if (!r) return tl::unexpected(r.error());
    if (!*r) {
      if (out.empty()) return tl::unexpected(fmt::format("no candidate {}", id));
      break;
    }
    out.push_back(**r);
    cur = (*r)->candidate.parent;
  }
  return out;
}

Result<std::vector<Row>> Archive::Pareto(const std::string& task) {
  std::string where = "WHERE c.on_front = 1";
  if (!task.empty()) where += " AND c.task = ?1";
  return Rows(impl_->db, RowSql(schema_version_, where + " ORDER BY c.id"), [&](Stmt& s) {
    if (!task.empty()) s.Bind(1, task);
  });
}

Result<std::vector<LedgerSummary>> Archive::Ledger() {
  // The planner prefers the rows by rowid; the standing index (schema 9)
  // holds all the join reads, and reading it halves the time. A file
  // opened read-only before schema 9 has none.
  Stmt has(impl_->db, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'candidates_standing'");
  const std::string by = has.Step() ? " INDEXED BY candidates_standing" : "";
  const std::string reintroduced = schema_version_ >= 9 ? "coalesce(sum(c.reintroduced), 0)" : "0";
  const std::string sql =
      "SELECT coalesce(l.run_id, 0), l.model, count(*), sum(l.tokens_in), sum(l.tokens_out), sum(l.cost_usd), "
      "sum(l.latency_s), sum(l.outcome <> 'ok'), "
      "sum(c.id IS NOT NULL AND c.gate_passed = 1 AND c.status = 'evaluated' AND p.id IS NOT NULL AND "
      "(p.gate_passed = 0 OR c.best_fitness > p.best_fitness)), " +
      reintroduced + " FROM ledger l LEFT JOIN candidates c" + by + " ON c.id = l.candidate_id LEFT JOIN candidates p" +
      by + " ON p.id = c.parent_id GROUP BY l.run_id, l.model ORDER BY l.run_id, l.model";
  Stmt s(impl_->db, sql.c_str());
  std::vector<LedgerSummary> out;
  while (s.Step()) {
    LedgerSummary l;
    l.run_id = s.Int(0);
    l.model = s.Text(1);
    l.calls = s.Int(2);
    l.tokens_in = s.Int(3);
    l.tokens_out = s.Int(4);
    l.cost_usd = s.Real(5);
    l.latency_s = s.Real(6);
    l.failures = s.Int(7);
    l.wins = s.Int(8);
    l.reintroduced = s.Int(9);
    out.push_back(l);
  }
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return out;
}

Result<Archive::RunTotals> Archive::Totals(std::int64_t run_id) {
  RunTotals t;
  Stmt c(impl_->db, "SELECT count(*) FROM candidates WHERE run_id=? AND parent_id IS NOT NULL");
  c.Bind(1, run_id);
  if (c.Step()) t.candidates = c.Int(0);
  Stmt a(impl_->db, "SELECT count(*) FROM attempts WHERE run_id=?");
  a.Bind(1, run_id);
  if (a.Step()) t.attempts = a.Int(0);
  Stmt l(impl_->db, "SELECT count(*), coalesce(sum(tokens_in + tokens_out), 0), coalesce(sum(cost_usd), 0) FROM ledger WHERE run_id=?");
  l.Bind(1, run_id);
  if (l.Step()) {
    t.calls = l.Int(0);
    t.tokens = l.Int(1);
    t.cost_usd = l.Real(2);
  }
  Stmt e(impl_->db, "SELECT coalesce(max(CAST(message AS REAL)), 0) FROM events WHERE run_id=? AND kind='elapsed'");
  e.Bind(1, run_id);
  if (e.Step()) t.elapsed_s = e.Real(0);
  if (c.failed() || a.failed() || l.failed() || e.failed()) return tl::unexpected(c.error() + a.error() + l.error() + e.error());
  return t;
}

Result<void> Archive::Share(std::int64_t candidate_id, int island) {
  Stmt s(impl_->db,
         "INSERT OR IGNORE INTO migrations(candidate_id, from_island, to_island, created_at) SELECT id, island, ?, "
         "strftime('%s','now') FROM candidates WHERE id=? AND island<>?");
  s.Bind(1, island).Bind(2, candidate_id).Bind(3, island);
  s.Step();
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return {};
}

Result<std::vector<Reintroductions>> Archive::ReintroducedByModel(std::int64_t run_id) {
  std::vector<Reintroductions> out;
  if (schema_version_ < 9) return out;
  Stmt s(impl_->db,
         "SELECT coalesce(l.model, ''), count(*), sum(c.reintroduced > 0), sum(c.reintroduced) FROM candidates c "
         "LEFT JOIN ledger l ON l.candidate_id = c.id WHERE c.run_id = ?1 AND c.parent_id IS NOT NULL "
         "GROUP BY 1 ORDER BY 1");
  s.Bind(1, run_id);
  while (s.Step()) out.push_back({s.Text(0), s.Int(1), s.Int(2), s.Int(3)});
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return out;
}

Result<std::vector<AttemptRow>> Archive::RecentFailures(std::int64_t parent, int n, const RunScope& scope) {
  // The proposal's head only: a prompt quotes its start, never megabytes.
  Stmt s(impl_->db,
         "SELECT id, run_id, parent_id, stage, error, substr(proposal, 1, 4000), created_at FROM attempts "
         "WHERE parent_id=?1 AND (?98 = 0 OR run_id = ?98) ORDER BY id DESC LIMIT ?2");
  s.Bind(1, parent).Bind(2, n);
  internal::BindScope(s, scope);
  std::vector<AttemptRow> out;
  while (s.Step()) out.push_back(ReadAttempt(s));
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return out;
}

Result<std::vector<std::pair<std::int64_t, std::string>>> Archive::Sources(const std::string& task,
                                                                            std::size_t max_bytes, int limit,
                                                                            const RunScope& scope) {
  Stmt s(impl_->db, ("SELECT id, source FROM (SELECT c.id AS id, c.source AS source FROM candidates c WHERE c.task=?1 "
                     "AND c.source_bytes <= ?2 AND " + internal::ScopeSql("c") +
                     " ORDER BY c.id DESC LIMIT ?3) ORDER BY id").c_str());
  s.Bind(1, task).Bind(2, static_cast<std::int64_t>(max_bytes)).Bind(3, limit);
  internal::BindScope(s, scope);
  std::vector<std::pair<std::int64_t, std::string>> out;
  while (s.Step()) out.emplace_back(s.Int(0), s.Text(1));
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return out;
}

Result<std::vector<ChildOutcome>> Archive::RecentOutcomes(const std::string& task, int limit, const RunScope& scope) {
  Stmt s(impl_->db,
         "SELECT c.id, c.parent_id, c.intent, c.status, c.gate_passed, c.best_fitness, p.gate_passed, p.best_fitness "
         "FROM candidates c JOIN candidates p ON p.id = c.parent_id WHERE c.task=?1 AND (?98 = 0 OR c.run_id = ?98) "
         "ORDER BY c.id DESC LIMIT ?2");
  s.Bind(1, task).Bind(2, limit);
  internal::BindScope(s, scope);
  std::vector<ChildOutcome> out;
  while (s.Step()) {
    ChildOutcome o;
    o.id = s.Int(0);
    o.parent = s.Int(1);
    o.intent = s.Text(2);
    o.status = ParseCandidateStatus(s.Text(3)).value_or(CandidateStatus::kEvaluated);
    o.gate_passed = s.Int(4) != 0;
    o.fitness = s.OptReal(5);
    o.parent_gate_passed = s.Int(6) != 0;
    o.parent_fitness = s.OptReal(7);
    out.push_back(std::move(o));
  }
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return out;
}

Result<std::map<std::string, std::int64_t>> Archive::RecentFailureStages(const std::string& task, int limit,
                                                                         const RunScope& scope) {
  Stmt s(impl_->db,
         "SELECT stage, count(*) FROM (SELECT a.stage AS stage FROM attempts a JOIN runs r ON r.id = a.run_id "
         "WHERE r.task=?1 AND (?98 = 0 OR a.run_id = ?98) ORDER BY a.id DESC LIMIT ?2) GROUP BY stage");
  s.Bind(1, task).Bind(2, limit);
  internal::BindScope(s, scope);
  std::map<std::string, std::int64_t> out;
  while (s.Step()) out[s.Text(0)] = s.Int(1);
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return out;
}

Result<std::optional<Run>> Archive::GetRun(std::int64_t run_id) {
  auto runs = Runs();
  if (!runs) return tl::unexpected(runs.error());
  for (const auto& r : *runs)
    if (r.id == run_id) return std::optional<Run>(r);
  return std::optional<Run>();
}

}  // namespace ergon::archive
