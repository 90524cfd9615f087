// Long sources, kept once each outside the candidate rows (schema 5),
// zstd-compressed (schema 6).
#include <cstring>

#include <fmt/core.h>
#include <zstd.h>

#include "base/digest.h"
#include "archive/impl.h"
#include "genome/genome.h"

namespace ergon::archive {

namespace {

// Generated sources repeat themselves: zstd at level 9 takes a transformed
// dally generator of megabytes to kilobytes (a night of them filled 100 GB
// raw). From schema 6 a blob is a zstd frame stored as a BLOB; older rows
// are TEXT and read as they are.
constexpr int kZstdLevel = 9;
constexpr unsigned char kZstdMagic[4] = {0x28, 0xB5, 0x2F, 0xFD};

bool IsZstdFrame(const void* data, std::size_t size) {
  return size >= 4 && std::memcmp(data, kZstdMagic, 4) == 0;
}

// SQL ergon_inflate(x): a zstd BLOB as its text; anything else unchanged.
void Inflate(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3_value* v = argv[0];
  if (sqlite3_value_type(v) != SQLITE_BLOB) {
    sqlite3_result_value(ctx, v);
    return;
  }
  const void* data = sqlite3_value_blob(v);
  const auto size = static_cast<std::size_t>(sqlite3_value_bytes(v));
  if (!IsZstdFrame(data, size)) {
    sqlite3_result_value(ctx, v);
    return;
  }
  const unsigned long long raw = ZSTD_getFrameContentSize(data, size);
  if (raw == ZSTD_CONTENTSIZE_ERROR || raw == ZSTD_CONTENTSIZE_UNKNOWN || raw > (1ull << 31)) {
    sqlite3_result_error(ctx, "ergon_inflate: a blob that is not a whole zstd frame", -1);
    return;
  }
  std::string out(static_cast<std::size_t>(raw), '\0');
  const std::size_t n = ZSTD_decompress(out.data(), out.size(), data, size);
  if (ZSTD_isError(n) || n != out.size()) {
    sqlite3_result_error(ctx, "ergon_inflate: a corrupt zstd blob", -1);
    return;
  }
  sqlite3_result_text64(ctx, out.data(), out.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

}  // namespace

std::string internal::RegisterInflate(sqlite3* db) {
  if (sqlite3_create_function_v2(db, "ergon_inflate", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, Inflate, nullptr,
                                 nullptr, nullptr) != SQLITE_OK)
    return sqlite3_errmsg(db);
  return {};
}

Result<std::string> internal::StoreBlob(sqlite3* db, const std::string& text) {
  std::string key = base::Sha256Hex(text);
  std::string packed(ZSTD_compressBound(text.size()), '\0');
  const std::size_t n = ZSTD_compress(packed.data(), packed.size(), text.data(), text.size(), kZstdLevel);
  if (ZSTD_isError(n)) return tl::unexpected(fmt::format("zstd: {}", ZSTD_getErrorName(n)));
  packed.resize(n);
  Stmt s(db, "INSERT INTO blobs(hash, bytes, text) VALUES(?,?,?) ON CONFLICT(hash) DO NOTHING");
  s.Bind(1, key).Bind(2, static_cast<std::int64_t>(text.size())).BindBlob(3, packed);
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
