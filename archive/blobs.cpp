// Long sources, kept once each outside the candidate rows (schema 5).
#include <fmt/core.h>

#include "archive/impl.h"
#include "genome/genome.h"

namespace ergon::archive {

Result<std::string> internal::StoreBlob(sqlite3* db, const std::string& text) {
  std::string key = genome::Sha256Hex(text);
  Stmt s(db, "INSERT INTO blobs(hash, bytes, text) VALUES(?,?,?) ON CONFLICT(hash) DO NOTHING");
  s.Bind(1, key).Bind(2, static_cast<std::int64_t>(text.size())).Bind(3, text);
  s.Step();
  if (!s.ok() || s.failed()) return tl::unexpected(s.error());
  return key;
}

Result<std::string> Archive::PutBlob(const std::string& text) {
  if (impl_->read_only) return tl::unexpected(std::string("the archive is open read-only"));
  base::MutexLock l(&impl_->blob_mu);
  if (!impl_->blob_db) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(impl_->path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      std::string why = db ? sqlite3_errmsg(db) : "cannot open";
      if (db) sqlite3_close(db);
      return tl::unexpected(fmt::format("{}: {}", impl_->path, why));
    }
    sqlite3_busy_timeout(db, 5000);
    // The file is in WAL mode already (Open made it so); this connection's
    // commits are as durable as the main one's.
    if (auto e = internal::Exec(db, "PRAGMA synchronous=NORMAL"); !e.empty()) {
      sqlite3_close(db);
      return tl::unexpected(e);
    }
    impl_->blob_db = db;
  }
  return internal::StoreBlob(impl_->blob_db, text);
}

}  // namespace ergon::archive
