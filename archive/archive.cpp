// Opening, schema and migrations, and writing.
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <fmt/core.h>

#include "archive/impl.h"

namespace ergon::archive {
namespace internal {

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string JoinObjectives(const std::vector<double>& o) {
  std::string s;
  for (std::size_t i = 0; i < o.size(); ++i) s += fmt::format("{}{:.17g}", i ? "," : "", o[i]);
  return s;
}

std::vector<double> SplitObjectives(const std::string& s) {
  // A stored column is input like any other: a damaged one reads as no
  // objectives (the candidate then leaves the front), never as an exception.
  std::vector<double> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    auto comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    const std::string field = s.substr(pos, comma - pos);
    char* end = nullptr;
    const double v = std::strtod(field.c_str(), &end);
    if (field.empty() || end != field.c_str() + field.size()) return {};
    out.push_back(v);
    pos = comma + 1;
  }
  return out;
}

bool Dominates(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size() || a.empty()) return false;
  bool better = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

}  // namespace internal

using internal::Exec;
using internal::Stmt;

namespace {

// Version 1. Migrations append here; a file's version says how far it got.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE runs(
  id INTEGER PRIMARY KEY, task TEXT NOT NULL, agent TEXT NOT NULL, model TEXT NOT NULL,
  settings TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL, status TEXT NOT NULL);
CREATE TABLE candidates(
  id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id), task TEXT NOT NULL,
  parent_id INTEGER REFERENCES candidates(id), island INTEGER NOT NULL, generation INTEGER NOT NULL,
  hash TEXT NOT NULL, intent TEXT NOT NULL, created_at REAL NOT NULL,
  children INTEGER NOT NULL DEFAULT 0, gate_passed INTEGER NOT NULL DEFAULT 0, best_fitness REAL,
  primary_eval INTEGER, on_front INTEGER NOT NULL DEFAULT 0, objectives TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL, source_bytes INTEGER NOT NULL,
  -- Big columns last: reading any column after one walks its overflow pages.
  edit TEXT NOT NULL, source TEXT NOT NULL);
CREATE UNIQUE INDEX candidates_by_hash ON candidates(task, hash);
CREATE INDEX candidates_by_fitness ON candidates(task, island, gate_passed, best_fitness DESC, id, status, children);
CREATE INDEX candidates_by_parent ON candidates(parent_id);
CREATE INDEX candidates_on_front ON candidates(task, on_front);
CREATE TABLE evaluations(
  id INTEGER PRIMARY KEY, candidate_id INTEGER NOT NULL REFERENCES candidates(id),
  evaluator_version TEXT NOT NULL, meter TEXT NOT NULL, device TEXT NOT NULL, suite TEXT NOT NULL,
  status TEXT NOT NULL, gate_passed INTEGER NOT NULL, fitness REAL,
  accuracy REAL, recovery REAL, energy_j REAL, cost REAL, wall_s REAL, components TEXT NOT NULL,
  feedback TEXT NOT NULL, created_at REAL NOT NULL,
  UNIQUE(candidate_id, evaluator_version, meter, device, suite));
CREATE TABLE ledger(
  id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id), candidate_id INTEGER REFERENCES candidates(id),
  model TEXT NOT NULL, tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL, cost_usd REAL NOT NULL,
  latency_s REAL NOT NULL, outcome TEXT NOT NULL, error TEXT NOT NULL, created_at REAL NOT NULL);
CREATE INDEX ledger_by_run ON ledger(run_id, model);
CREATE TABLE attempts(
  id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id), parent_id INTEGER REFERENCES candidates(id),
  stage TEXT NOT NULL, error TEXT NOT NULL, proposal TEXT NOT NULL, created_at REAL NOT NULL);
CREATE INDEX attempts_by_parent ON attempts(parent_id);
CREATE TABLE events(
  id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id), kind TEXT NOT NULL,
  candidate_id INTEGER REFERENCES candidates(id), message TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE elites(
  task TEXT NOT NULL, cell TEXT NOT NULL, candidate_id INTEGER NOT NULL REFERENCES candidates(id),
  fitness REAL NOT NULL, PRIMARY KEY(task, cell));
CREATE TABLE migrations(
  id INTEGER PRIMARY KEY, candidate_id INTEGER NOT NULL REFERENCES candidates(id),
  from_island INTEGER NOT NULL, to_island INTEGER NOT NULL, created_at REAL NOT NULL,
  UNIQUE(candidate_id, to_island));
CREATE INDEX migrations_by_island ON migrations(to_island, candidate_id);
CREATE VIRTUAL TABLE search USING fts5(candidate_id UNINDEXED, body);
)sql",
    // Version 2: metrics are named by their task, one row each, instead of a
    // fixed union of two tasks' columns. The old columns move over, then go.
    R"sql(
CREATE TABLE evaluation_metrics(
  evaluation_id INTEGER NOT NULL REFERENCES evaluations(id), name TEXT NOT NULL, value REAL NOT NULL,
  PRIMARY KEY(evaluation_id, name)) WITHOUT ROWID;
CREATE INDEX evaluation_metrics_by_name ON evaluation_metrics(name, value);
INSERT INTO evaluation_metrics SELECT id, 'accuracy', accuracy FROM evaluations WHERE accuracy IS NOT NULL;
INSERT INTO evaluation_metrics SELECT id, 'recovery', recovery FROM evaluations WHERE recovery IS NOT NULL;
INSERT INTO evaluation_metrics SELECT id, 'energy_j', energy_j FROM evaluations WHERE energy_j IS NOT NULL;
INSERT INTO evaluation_metrics SELECT id, 'cost', cost FROM evaluations WHERE cost IS NOT NULL;
INSERT INTO evaluation_metrics SELECT id, 'wall_s', wall_s FROM evaluations WHERE wall_s IS NOT NULL;
ALTER TABLE evaluations DROP COLUMN accuracy;
ALTER TABLE evaluations DROP COLUMN recovery;
ALTER TABLE evaluations DROP COLUMN energy_j;
ALTER TABLE evaluations DROP COLUMN cost;
ALTER TABLE evaluations DROP COLUMN wall_s;
INSERT INTO search(candidate_id, body) SELECT -id, stage || ': ' || error || char(10) || substr(proposal, 1, 8000) FROM attempts;
CREATE INDEX attempts_by_run ON attempts(run_id, id);
)sql",
    // Version 3: indexes that hold every column the dashboard's per-run
    // summaries read, so they never walk the rows (and the candidates' inline
    // sources): `ergon serve` on 100,000 candidates.
    R"sql(
CREATE INDEX candidates_by_run ON candidates(run_id, task, gate_passed, status, on_front, primary_eval, parent_id,
                                            created_at);
CREATE INDEX ledger_summary ON ledger(run_id, model, outcome, created_at, tokens_in, tokens_out, cost_usd);
)sql",
    // Version 4: a candidate's events (where each evaluation was measured, by
    // which cluster job) for `archive show`.
    R"sql(
CREATE INDEX IF NOT EXISTS events_by_candidate ON events(candidate_id, kind);
)sql",
    // Version 5: sources of kBlobBytes or more (generated programs) are kept
    // once each, by the SHA-256 of their bytes, outside the candidate rows;
    // such a row's source is '' and source_blob names the text. Rows written
    // before keep their sources inline.
    R"sql(
CREATE TABLE blobs(hash TEXT PRIMARY KEY, bytes INTEGER NOT NULL, text TEXT NOT NULL);
ALTER TABLE candidates ADD COLUMN source_blob TEXT;
)sql",
    // Version 6: new blobs are zstd frames stored as BLOBs (read through
    // ergon_inflate); older rows stay TEXT. Nothing to move: the version
    // keeps an older ergon from reading a frame as a source.
    R"sql(
SELECT 1;
)sql",
    // Version 7: which process runs a run, so a run whose process died is
    // found and closed; and why a run stopped.
    R"sql(
ALTER TABLE runs ADD COLUMN process TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN stop_reason TEXT NOT NULL DEFAULT '';
)sql",
    // Version 8: the full-text index keeps no copy of the text it indexes
    // (a contentless FTS5 table): searches only ever read ids, and the copy
    // was half of a dally_parity archive (64 KiB of each generator's source).
    // Each indexed row's owner moves to search_owner, under the same rowid.
    R"sql(
CREATE TABLE search_owner(id INTEGER PRIMARY KEY, candidate_id INTEGER NOT NULL);
CREATE VIRTUAL TABLE search_index USING fts5(body, content='');
INSERT INTO search_owner(id, candidate_id) SELECT rowid, candidate_id FROM search;
INSERT INTO search_index(rowid, body) SELECT rowid, body FROM search;
DROP TABLE search;
)sql",
    // Version 9: each candidate's idea label, and how many of the lines its
    // proposal added an ancestor had deleted (re-introduced code). And a
    // candidate's standing by id, so the ledger's wins (a call's candidate
    // against its parent) read no candidate rows: `/api/ledger` on 100,000
    // calls took 305 ms, 150 ms with it.
    R"sql(
ALTER TABLE candidates ADD COLUMN idea TEXT NOT NULL DEFAULT '';
ALTER TABLE candidates ADD COLUMN reintroduced INTEGER NOT NULL DEFAULT 0;
CREATE INDEX candidates_standing ON candidates(id, parent_id, gate_passed, status, best_fitness, reintroduced);
)sql",
};
constexpr int kLatest = static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);
static_assert(kLatest == kSchemaVersion);

Result<int> ReadVersion(sqlite3* db) {
  // user_version is 0 for a new file; an ergon file also has its marker.
  Stmt v(db, "PRAGMA user_version");
  if (!v.ok() || !v.Step()) return tl::unexpected(std::string(sqlite3_errmsg(db)));
  int version = static_cast<int>(v.Int(0));
  if (version == 0) {
    Stmt t(db, "SELECT count(*) FROM sqlite_master");
    if (!t.ok() || !t.Step()) return tl::unexpected(std::string(sqlite3_errmsg(db)));
    if (t.Int(0) != 0) return tl::unexpected(std::string("not an ergon archive (it has tables but no ergon schema version)"));
  }
  return version;
}

Result<std::unique_ptr<Archive>> OpenImpl(const std::string& path, bool read_only,
                                          std::unique_ptr<Archive> a, Archive::Impl* impl, int* version_out) {
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (read_only && !std::filesystem::exists(path))
    return tl::unexpected(fmt::format("{}: no such archive (ergon run creates it; --db chooses another)", path));
  if (sqlite3_open_v2(path.c_str(), &impl->db, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
    return tl::unexpected(fmt::format("{}: {}", path, impl->db ? sqlite3_errmsg(impl->db) : "cannot open"));
  // Runs sharing an archive wait for each other's writes: a transaction is
  // milliseconds, but a migration or a checkpoint of a big file can take
  // seconds.
  sqlite3_busy_timeout(impl->db, 30000);
  auto version = ReadVersion(impl->db);
  if (!version && read_only) {
    // A WAL file on a read-only medium (a mounted snapshot, a CD, a share):
    // readers cannot make the -shm index there. Nobody can write it either,
    // so it is safe to read it as immutable.
    sqlite3_close(impl->db);
    impl->db = nullptr;
    std::string uri = "file:";
    for (char c : std::filesystem::absolute(path).string()) {
      if (c == '%' || c == '?' || c == '#') uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
      else uri += c;
    }
    uri += "?immutable=1";
    if (sqlite3_open_v2(uri.c_str(), &impl->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK)
      return tl::unexpected(fmt::format("{}: {}", path, impl->db ? sqlite3_errmsg(impl->db) : "cannot open"));
    version = ReadVersion(impl->db);
  }
  if (!version) return tl::unexpected(fmt::format("{}: {}", path, version.error()));
  if (auto e = internal::RegisterInflate(impl->db); !e.empty()) return tl::unexpected(fmt::format("{}: {}", path, e));
  if (*version > kSchemaVersion)
    return tl::unexpected(fmt::format("{}: written by a newer ergon (archive schema {}, this ergon knows up to {}); "
                                      "upgrade ergon to read it. The file was not modified.",
                                      path, *version, kSchemaVersion));
  if (read_only) {
    if (*version == 0) return tl::unexpected(fmt::format("{}: empty file, not an ergon archive", path));
    if (*version < kOldestReadable)
      return tl::unexpected(fmt::format("{}: archive schema {} is older than {}; open it once with `ergon run` or any "
                                        "writing command to migrate it", path, *version, kSchemaVersion));
  } else {
    // WAL: readers never block the writer. synchronous=NORMAL in WAL mode is
    // durable against a killed process (not against power loss).
    // Turning a new file to WAL takes an exclusive lock, and SQLite answers
    // "locked" at once (no busy handler) while another process opening the
    // same new file holds it: that is waited for like any busy database.
    for (const char* p : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"})
      for (int tries = 0;; ++tries) {
        const std::string e = Exec(impl->db, p);
        if (e.empty()) break;
        const int code = sqlite3_errcode(impl->db) & 0xff;
        if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || tries >= 300)
          return tl::unexpected(fmt::format("{}: {}", path, e));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    // Each step reads the version again inside its write transaction:
    // another process opening the same file may have migrated it meanwhile.
    while (*version < kLatest) {
      if (auto e = Exec(impl->db, "BEGIN IMMEDIATE"); !e.empty())
        return tl::unexpected(fmt::format("{}: {}", path, e));
      auto now = ReadVersion(impl->db);
      if (!now) {
        Exec(impl->db, "ROLLBACK");
        return tl::unexpected(fmt::format("{}: {}", path, now.error()));
      }
      const int v = *now;
      if (v >= kLatest) {
        Exec(impl->db, "COMMIT");
        break;
      }
      const std::string sql = kMigrations[v] + fmt::format("PRAGMA user_version={};COMMIT;", v + 1);
      if (auto e = Exec(impl->db, sql); !e.empty()) {
        Exec(impl->db, "ROLLBACK");
        return tl::unexpected(fmt::format("{}: migrating schema {} -> {} failed: {}", path, v, v + 1, e));
      }
      *version = v + 1;
    }
    *version = kLatest;
  }
  *version_out = *version;
  return a;
}

}  // namespace

Result<std::unique_ptr<Archive>> Archive::Open(const std::string& path) {
  std::unique_ptr<Archive> a(new Archive);
  a->impl_ = std::make_unique<Impl>();
  a->impl_->path = path;
  Impl* impl = a->impl_.get();
  int* version = &a->schema_version_;
  return OpenImpl(path, false, std::move(a), impl, version);
}

Result<std::unique_ptr<Archive>> Archive::OpenReadOnly(const std::string& path) {
  std::unique_ptr<Archive> a(new Archive);
  a->impl_ = std::make_unique<Impl>();
  a->impl_->path = path;
  a->impl_->read_only = true;
  Impl* impl = a->impl_.get();
  int* version = &a->schema_version_;
  return OpenImpl(path, true, std::move(a), impl, version);
}

Archive::~Archive() = default;

Result<std::int64_t> Archive::BeginRun(const Run& run) {
  Stmt s(impl_->db,
         "INSERT INTO runs(task, agent, model, settings, started_at, status, process) VALUES(?,?,?,?,?,?,?)");
  s.Bind(1, run.task).Bind(2, run.agent).Bind(3, run.model).Bind(4, run.settings);
  s.Bind(5, run.started_at ? run.started_at : internal::Now()).Bind(6, StatusName(run.status)).Bind(7, run.process);
  s.Step();
  if (!s.ok() || s.failed()) return tl::unexpected(s.ok() ? s.error() : s.error());
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(impl_->db));
}

Result<void> Archive::UpdateRunSettings(std::int64_t run_id, const std::string& settings) {
  Stmt s(impl_->db, "UPDATE runs SET settings=? WHERE id=?");
  s.Bind(1, settings).Bind(2, run_id);
  s.Step();
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return {};
}

Result<void> Archive::EndRun(std::int64_t run_id, RunStatus status, const std::string& reason) {
  Stmt s(impl_->db, "UPDATE runs SET ended_at=?, status=?, stop_reason=? WHERE id=?");
  s.Bind(1, internal::Now()).Bind(2, StatusName(status)).Bind(3, reason).Bind(4, run_id);
  s.Step();
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  if (sqlite3_changes(impl_->db) == 0) return tl::unexpected(fmt::format("no run {}", run_id));
  return {};
}

Result<void> Archive::ReopenRun(std::int64_t run_id, const std::string& process, bool even_if_running) {
  Stmt s(impl_->db,
         "UPDATE runs SET status='running', process=?, stop_reason='', ended_at=NULL WHERE id=? AND "
         "(status!='running' OR ?)");
  s.Bind(1, process).Bind(2, run_id).Bind(3, even_if_running ? 1 : 0);
  s.Step();
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  if (sqlite3_changes(impl_->db) == 0)
    return tl::unexpected(fmt::format("run {} is marked running: another process is running it", run_id));
  return {};
}

Result<void> Archive::MarkRunLost(std::int64_t run_id, const std::string& reason) {
  // Only a run still marked running: another process may have closed it.
  Stmt s(impl_->db,
         "UPDATE runs SET status='stopped', stop_reason=?1, ended_at=max(started_at, "
         "coalesce((SELECT max(created_at) FROM events WHERE run_id=?2), 0), "
         "coalesce((SELECT max(created_at) FROM candidates WHERE run_id=?2), 0), "
         "coalesce((SELECT max(created_at) FROM attempts WHERE run_id=?2), 0)) "
         "WHERE id=?2 AND status='running'");
  s.Bind(1, reason).Bind(2, run_id);
  s.Step();
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return {};
}

Result<void> Archive::MarkStatus(std::int64_t candidate_id, CandidateStatus status) {
  Stmt s(impl_->db, "UPDATE candidates SET status=? WHERE id=?");
  s.Bind(1, StatusName(status)).Bind(2, candidate_id);
  s.Step();
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  if (sqlite3_changes(impl_->db) == 0) return tl::unexpected(fmt::format("no candidate {}", candidate_id));
  return {};
}

namespace {

// Makes `body` findable under `owner` (a candidate id, or minus an attempt's
// id): its owner row, then the index row under the same rowid. "" or the error.
std::string IndexText(sqlite3* db, std::int64_t owner, const std::string& body) {
  Stmt o(db, "INSERT INTO search_owner(candidate_id) VALUES(?)");
  o.Bind(1, owner);
  o.Step();
  if (o.failed()) return o.error();
  Stmt i(db, "INSERT INTO search_index(rowid, body) VALUES(?, ?)");
  i.Bind(1, static_cast<std::int64_t>(sqlite3_last_insert_rowid(db))).Bind(2, body);
  i.Step();
  return i.failed() ? i.error() : "";
}

// Puts candidate `id` with objectives `o` on the front if nothing there
// dominates it, and drops what it dominates.
std::string UpdateFront(sqlite3* db, const std::string& task, std::int64_t id, const std::vector<double>& o) {
  Stmt front(db, "SELECT id, objectives FROM candidates WHERE task=? AND on_front=1 AND id<>?");
  front.Bind(1, task).Bind(2, id);
  std::vector<std::int64_t> dominated;
  bool keep = true;
  while (front.Step()) {
    auto other = internal::SplitObjectives(front.Text(1));
    if (internal::Dominates(other, o)) keep = false;
    if (internal::Dominates(o, other)) dominated.push_back(front.Int(0));
  }
  if (front.failed()) return front.error();
  if (!keep) return {};
  Stmt drop(db, "UPDATE candidates SET on_front=0 WHERE id=?");
  for (auto d : dominated) {
    drop.Reset();
    drop.Bind(1, d);
    drop.Step();
    if (drop.failed()) return drop.error();
  }
  Stmt add(db, "UPDATE candidates SET on_front=1 WHERE id=?");
  add.Bind(1, id);
  add.Step();
  return add.failed() ? add.error() : std::string();
}

bool ValidMetricName(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') return false;
  return true;
}

std::int64_t InsertEvaluation(sqlite3* db, std::int64_t cand, const Evaluation& e, std::string& err) {
  for (const auto& [name, value] : e.metrics.values) {
    if (!ValidMetricName(name)) {
      err = fmt::format("metric name '{}' is not letters, digits, '_' and '.'", name);
      return 0;
    }
    if (!std::isfinite(value)) {
      err = fmt::format("metric {} is not a finite number", name);
      return 0;
    }
  }
  Stmt s(db,
         "INSERT INTO evaluations(candidate_id, evaluator_version, meter, device, suite, status, gate_passed, fitness, "
         "components, feedback, created_at) VALUES(?,?,?,?,?,?,?,?,?,?,?) "
         "ON CONFLICT(candidate_id, evaluator_version, meter, device, suite) DO UPDATE SET status=excluded.status, "
         "gate_passed=excluded.gate_passed, fitness=excluded.fitness, components=excluded.components, "
         "feedback=excluded.feedback, created_at=excluded.created_at RETURNING id");
  s.Bind(1, cand).Bind(2, e.evaluator_version).Bind(3, e.meter).Bind(4, e.device).Bind(5, e.suite).Bind(6, e.status);
  s.Bind(7, e.gate_passed ? 1 : 0).Bind(8, e.fitness).Bind(9, e.metrics.components);
  s.Bind(10, e.feedback).Bind(11, e.created_at ? e.created_at : internal::Now());
  if (!s.Step()) {
    err = s.ok() && !s.failed() ? std::string("evaluation vanished") : s.error();
    return 0;
  }
  const std::int64_t eid = s.Int(0);
  s.Step();  // finish the statement (RETURNING yields one row)
  Stmt clear(db, "DELETE FROM evaluation_metrics WHERE evaluation_id=?");
  clear.Bind(1, eid);
  clear.Step();
  if (clear.failed()) {
    err = clear.error();
    return 0;
  }
  Stmt put(db, "INSERT INTO evaluation_metrics(evaluation_id, name, value) VALUES(?,?,?)");
  for (const auto& [name, value] : e.metrics.values) {
    put.Reset();
    put.Bind(1, eid).Bind(2, name).Bind(3, value);
    put.Step();
    if (put.failed()) {
      err = put.error();
      return 0;
    }
  }
  if (!e.feedback.empty()) err = IndexText(db, cand, e.feedback);
  return eid;
}

}  // namespace

Result<std::int64_t> Archive::Record(const Attempt& at) {
  auto r = RecordNew(at);
  if (!r) return tl::unexpected(r.error());
  if (r->existing)
    return tl::unexpected(fmt::format("candidate {} already holds this source for task {}", r->id, at.candidate->task));
  return r->id;
}

Result<Archive::Recorded> Archive::RecordNew(const Attempt& at) {
  sqlite3* db = impl_->db;
  if (auto e = Exec(db, "BEGIN IMMEDIATE"); !e.empty()) return tl::unexpected(e);
  auto fail = [&](const std::string& e) {
    Exec(db, "ROLLBACK");
    return tl::unexpected(e);
  };
  std::int64_t cand = 0;
  std::string task;
  if (at.candidate) {
    const Candidate& c = *at.candidate;
    task = c.task;
    // Inside the write transaction, so no other process can slip in
    // between: a source already recorded (by another run on this archive)
    // is not recorded again.
    std::optional<std::int64_t> existing;
    {
      Stmt same(db, "SELECT id FROM candidates WHERE task=? AND hash=?");
      same.Bind(1, c.task).Bind(2, c.hash);
      if (same.Step()) existing = same.Int(0);
      else if (same.failed()) return fail(same.error());
    }
    if (existing) {
      Exec(db, "ROLLBACK");
      return Recorded{*existing, true};
    }
    if (c.parent) {
      // Children land in an island of their parent (its home, or one it
      // migrated to): islands only mix through migration.
      Stmt p(db,
             "SELECT (SELECT island FROM candidates WHERE id=?1) = ?2 OR EXISTS (SELECT 1 FROM migrations WHERE "
             "candidate_id=?1 AND to_island=?2), EXISTS (SELECT 1 FROM candidates WHERE id=?1)");
      p.Bind(1, *c.parent).Bind(2, c.island);
      if (!p.Step()) return fail(p.error());
      if (!p.Int(1)) return fail(fmt::format("parent {} does not exist", *c.parent));
      if (!p.Int(0)) return fail(fmt::format("candidate's island {} is not an island of its parent {}", c.island, *c.parent));
    }
    // A long source goes to blobs (here, unless PutBlob already put it).
    std::string blob = c.source_blob;
    if (blob.empty() && c.source.size() >= kBlobBytes) {
      auto put = internal::StoreBlob(db, c.source);
      if (!put) return fail(put.error());
      blob = *put;
    } else if (!blob.empty()) {
      Stmt b(db, "SELECT bytes = ? FROM blobs WHERE hash = ?");
      b.Bind(1, static_cast<std::int64_t>(c.source.size())).Bind(2, blob);
      if (!b.Step() || !b.Int(0)) return fail(fmt::format("no blob {} of {} bytes for the source", blob, c.source.size()));
    }
    Stmt s(db,
           "INSERT INTO candidates(run_id, task, parent_id, island, generation, source, hash, edit, intent, created_at, "
           "status, source_bytes, source_blob, idea, reintroduced) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    s.Bind(1, c.run_id ? std::optional<std::int64_t>(c.run_id) : std::nullopt).Bind(2, c.task).Bind(3, c.parent);
    s.Bind(4, c.island).Bind(5, c.generation).Bind(6, blob.empty() ? c.source : std::string());
    s.Bind(7, c.hash).Bind(8, c.edit).Bind(9, c.intent);
    s.Bind(10, c.created_at ? c.created_at : internal::Now()).Bind(11, StatusName(c.status));
    s.Bind(12, static_cast<std::int64_t>(c.source.size()));
    s.Bind(13, blob.empty() ? std::optional<std::string>() : std::optional<std::string>(blob));
    s.Bind(14, c.idea.substr(0, 200)).Bind(15, c.reintroduced);
    s.Step();
    if (!s.ok() || s.failed()) return fail(s.error());
    cand = sqlite3_last_insert_rowid(db);
    if (c.parent) {
      Stmt p(db, "UPDATE candidates SET children=children+1 WHERE id=?");
      p.Bind(1, *c.parent);
      p.Step();
      if (p.failed()) return fail(p.error());
    }
    // The index takes the first 64 KiB of a source: generated programs run to
    // megabytes of numbers that nobody searches, and indexing them costs seconds.
    if (auto e = IndexText(db, cand, c.source.substr(0, 64 << 10) + "\n" + c.intent); !e.empty()) return fail(e);
  } else if (at.existing_candidate) {
    cand = *at.existing_candidate;
    Stmt t(db, "SELECT task FROM candidates WHERE id=?");
    t.Bind(1, cand);
    if (!t.Step()) return fail(fmt::format("no candidate {}", cand));
    task = t.Text(0);
  }
  if (at.set_status) {
    if (!cand) return fail("a status needs a candidate");
    Stmt u(db, "UPDATE candidates SET status=? WHERE id=?");
    u.Bind(1, StatusName(*at.set_status)).Bind(2, cand);
    u.Step();
    if (u.failed()) return fail(u.error());
  }
  std::int64_t primary = 0;
  for (std::size_t i = 0; i < at.evaluations.size(); ++i) {
    if (!cand) return fail("evaluations need a candidate");
    std::string err;
    std::int64_t eid = InsertEvaluation(db, cand, at.evaluations[i], err);
    if (!err.empty()) return fail(err);
    if (i == 0) primary = eid;
  }
  if (cand && at.candidate && primary) {
    const Evaluation& e = at.evaluations.front();
    Stmt u(db, "UPDATE candidates SET primary_eval=?, gate_passed=?, best_fitness=?, objectives=? WHERE id=?");
    u.Bind(1, primary).Bind(2, e.gate_passed ? 1 : 0).Bind(3, e.fitness).Bind(4, internal::JoinObjectives(at.objectives));
    u.Bind(5, cand);
    u.Step();
    if (u.failed()) return fail(u.error());
    if (!at.objectives.empty())
      if (auto err = UpdateFront(db, task, cand, at.objectives); !err.empty()) return fail(err);
    if (!at.cell.empty() && e.gate_passed) {
      Stmt el(db,
              "INSERT INTO elites(task, cell, candidate_id, fitness) VALUES(?,?,?,?) ON CONFLICT(task, cell) DO UPDATE "
              "SET candidate_id=excluded.candidate_id, fitness=excluded.fitness WHERE excluded.fitness > elites.fitness");
      el.Bind(1, task).Bind(2, at.cell).Bind(3, cand).Bind(4, e.fitness);
      el.Step();
      if (el.failed()) return fail(el.error());
    }
  }
  if (at.ledger && at.ledger->id) {
    const LedgerEntry& l = *at.ledger;
    Stmt s(db,
           "UPDATE ledger SET candidate_id=?, model=?, tokens_in=?, tokens_out=?, cost_usd=?, latency_s=?, outcome=?, "
           "error=? WHERE id=?");
    s.Bind(1, l.candidate_id ? l.candidate_id : (cand ? std::optional<std::int64_t>(cand) : std::nullopt));
    s.Bind(2, l.model).Bind(3, l.tokens_in).Bind(4, l.tokens_out).Bind(5, l.cost_usd).Bind(6, l.latency_s);
    s.Bind(7, l.outcome).Bind(8, l.error).Bind(9, l.id);
    s.Step();
    if (!s.ok() || s.failed()) return fail(s.error());
  } else if (at.ledger) {
    const LedgerEntry& l = *at.ledger;
    Stmt s(db,
           "INSERT INTO ledger(run_id, candidate_id, model, tokens_in, tokens_out, cost_usd, latency_s, outcome, error, "
           "created_at) VALUES(?,?,?,?,?,?,?,?,?,?)");
    s.Bind(1, l.run_id ? std::optional<std::int64_t>(l.run_id) : std::nullopt);
    s.Bind(2, l.candidate_id ? l.candidate_id : (cand ? std::optional<std::int64_t>(cand) : std::nullopt));
    s.Bind(3, l.model).Bind(4, l.tokens_in).Bind(5, l.tokens_out).Bind(6, l.cost_usd).Bind(7, l.latency_s);
    s.Bind(8, l.outcome).Bind(9, l.error).Bind(10, l.created_at ? l.created_at : internal::Now());
    s.Step();
    if (!s.ok() || s.failed()) return fail(s.error());
  }
  if (at.failure) {
    const FailedAttempt& f = *at.failure;
    Stmt s(db, "INSERT INTO attempts(run_id, parent_id, stage, error, proposal, created_at) VALUES(?,?,?,?,?,?)");
    s.Bind(1, f.run_id ? std::optional<std::int64_t>(f.run_id) : std::nullopt).Bind(2, f.parent);
    s.Bind(3, f.stage).Bind(4, f.error).Bind(5, f.proposal).Bind(6, internal::Now());
    s.Step();
    if (!s.ok() || s.failed()) return fail(s.error());
    // Searchable as itself (a negative id marks an attempt) and under its parent.
    const std::int64_t attempt = sqlite3_last_insert_rowid(db);
    if (auto e = IndexText(db, -attempt, f.stage + ": " + f.error + "\n" + f.proposal.substr(0, 8000)); !e.empty())
      return fail(e);
    if (f.parent)
      if (auto e = IndexText(db, *f.parent, f.stage + ": " + f.error); !e.empty()) return fail(e);
  }
  for (const Event& ev : at.events) {
    Stmt s(db, "INSERT INTO events(run_id, kind, candidate_id, message, created_at) VALUES(?,?,?,?,?)");
    s.Bind(1, ev.run_id ? std::optional<std::int64_t>(ev.run_id) : std::nullopt).Bind(2, ev.kind);
    s.Bind(3, ev.candidate_id ? ev.candidate_id : (cand ? std::optional<std::int64_t>(cand) : std::nullopt));
    s.Bind(4, ev.message).Bind(5, internal::Now());
    s.Step();
    if (!s.ok() || s.failed()) return fail(s.error());
  }
  if (auto e = Exec(db, "COMMIT"); !e.empty()) return fail(e);
  return Recorded{cand, false};
}

Result<std::int64_t> Archive::BeginCall(std::int64_t run_id, const std::string& model) {
  Stmt s(impl_->db,
         "INSERT INTO ledger(run_id, model, tokens_in, tokens_out, cost_usd, latency_s, outcome, error, created_at) "
         "VALUES(?, ?, 0, 0, 0, 0, 'in_flight', '', ?)");
  s.Bind(1, run_id).Bind(2, model).Bind(3, internal::Now());
  s.Step();
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(impl_->db));
}

Result<int> Archive::CloseLostCalls(std::int64_t run_id) {
  Stmt s(impl_->db,
         "UPDATE ledger SET outcome='lost', error='the run stopped during this call; its tokens are unknown' "
         "WHERE run_id=? AND outcome='in_flight'");
  s.Bind(1, run_id);
  s.Step();
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return sqlite3_changes(impl_->db);
}

Result<std::string> Archive::IntegrityCheck() {
  Stmt s(impl_->db, "PRAGMA integrity_check");
  std::string out;
  while (s.Step()) out += s.Text(0) + "\n";
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return out;
}

}  // namespace ergon::archive
