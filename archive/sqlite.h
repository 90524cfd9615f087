// A thin RAII layer over the SQLite C API (internal to archive/).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>

#include <tl/expected.hpp>

namespace ergon::archive::internal {

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return stmt_ != nullptr; }
  const std::string& error() const { return error_; }

  Stmt& Bind(int i, std::int64_t v);
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<std::int64_t>(v)); }
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, const std::string& v);
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string(v)); }
  Stmt& Bind(int i, const std::optional<double>& v);
  Stmt& Bind(int i, const std::optional<std::int64_t>& v);
  Stmt& Bind(int i, const std::optional<std::string>& v);
  Stmt& BindBlob(int i, const std::string& bytes);  // as a BLOB, not TEXT
  Stmt& BindNull(int i);

  // SQLITE_ROW -> true, SQLITE_DONE -> false; errors land in error().
  bool Step();
  bool failed() const { return !error_.empty(); }
  void Reset();

  std::int64_t Int(int col) const;
  double Real(int col) const;
  std::string Text(int col) const;
  bool IsNull(int col) const;
  std::optional<double> OptReal(int col) const;
  std::optional<std::int64_t> OptInt(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string error_;
};

// Runs SQL without results; the error message, or empty.
std::string Exec(sqlite3* db, const std::string& sql);

}  // namespace ergon::archive::internal
