// Archive internals shared by its .cpp files.
#pragma once

#include <sqlite3.h>

#include <mutex>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "archive/archive.h"
#include "archive/sqlite.h"

namespace ergon::archive {

struct Archive::Impl {
  sqlite3* db = nullptr;
  std::string path;
  bool read_only = false;
  // PutBlob's own connection, opened on first use.
  base::Mutex blob_mu;
  sqlite3* blob_db GUARDED_BY(blob_mu) = nullptr;
  ~Impl() {
    if (blob_db) sqlite3_close(blob_db);
    if (db) sqlite3_close(db);
  }
};

namespace internal {

double Now();
std::string JoinObjectives(const std::vector<double>& o);
std::vector<double> SplitObjectives(const std::string& s);
// a dominates b: no worse in every objective, better in one (all minimised).
bool Dominates(const std::vector<double>& a, const std::vector<double>& b);
// The columns Row readers expect, and the reader.
extern const char* const kRowColumns;
Row ReadRow(const Stmt& s);
Evaluation ReadEvaluation(const Stmt& s, int at, std::int64_t candidate_id);
// Reads each evaluation's named metrics; an error message or empty.
std::string FillMetrics(sqlite3* db, std::vector<Evaluation*> evals);
// Stores text in the blobs table of `db` (if not there yet); its key.
Result<std::string> StoreBlob(sqlite3* db, const std::string& text);
// Makes SQL's ergon_inflate(x) known to `db` (blobs.cpp): an error message, or "".
std::string RegisterInflate(sqlite3* db);

// A run's scope (RunScope) as a condition on a candidates table `c`: it
// reads parameters ?98 (the run, 0 for the whole task) and ?99 (the
// baseline), so statements number their own parameters below 98.
inline std::string ScopeSql(const std::string& c) {
  return "(?98 = 0 OR " + c + ".run_id = ?98 OR " + c + ".id = ?99)";
}
inline void BindScope(Stmt& s, const RunScope& scope) { s.Bind(98, scope.run_id).Bind(99, scope.baseline); }

}  // namespace internal
}  // namespace ergon::archive
