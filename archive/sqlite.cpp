#include "archive/sqlite.h"

namespace ergon::archive::internal {

Stmt::Stmt(sqlite3* db, const char* sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
    error_ = sqlite3_errmsg(db);
    stmt_ = nullptr;
  }
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::Bind(int i, std::int64_t v) {
  if (stmt_) sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, double v) {
  if (stmt_) sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, const std::string& v) {
  if (stmt_) sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::Bind(int i, const std::optional<double>& v) { return v ? Bind(i, *v) : BindNull(i); }
Stmt& Stmt::Bind(int i, const std::optional<std::int64_t>& v) { return v ? Bind(i, *v) : BindNull(i); }
Stmt& Stmt::Bind(int i, const std::optional<std::string>& v) { return v ? Bind(i, *v) : BindNull(i); }
Stmt& Stmt::BindBlob(int i, const std::string& bytes) {
  if (stmt_) sqlite3_bind_blob64(stmt_, i, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::BindNull(int i) {
  if (stmt_) sqlite3_bind_null(stmt_, i);
  return *this;
}

bool Stmt::Step() {
  if (!stmt_) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) error_ = sqlite3_errmsg(db_);
  return false;
}

void Stmt::Reset() {
  if (!stmt_) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  error_.clear();
}

std::int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
double Stmt::Real(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Stmt::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(stmt_, col);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string();
}
bool Stmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
std::optional<double> Stmt::OptReal(int col) const {
  return IsNull(col) ? std::nullopt : std::optional<double>(Real(col));
}
std::optional<std::int64_t> Stmt::OptInt(int col) const {
  return IsNull(col) ? std::nullopt : std::optional<std::int64_t>(Int(col));
}

std::string Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string e = err ? err : "unknown error";
    sqlite3_free(err);
    return e;
  }
  return {};
}

}  // namespace ergon::archive::internal
