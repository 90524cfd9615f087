#include "evaluators/learning/idx_file.h"

#include <zlib.h>

#include <fmt/core.h>

namespace ergon::evaluators::learning {
namespace {

std::uint32_t BigEndian32(std::string_view b, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) << 24 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 1])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 2])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 3]));
}

}  // namespace

tl::expected<IdxArray, std::string> ParseIdx(std::string_view b) {
  if (b.size() < 4) return tl::unexpected(fmt::format("{} bytes: too short for an idx header", b.size()));
  if (b[0] != 0 || b[1] != 0) return tl::unexpected(std::string("not an idx file (the magic's first two bytes are not zero)"));
  IdxArray a;
  a.type = static_cast<std::uint8_t>(b[2]);
  if (a.type != kIdxUnsignedByte && a.type != kIdxSignedByte)
    return tl::unexpected(fmt::format("idx type 0x{:02x} is not read here (only bytes: 0x08, 0x09)", a.type));
  const int rank = static_cast<unsigned char>(b[3]);
  if (rank < 1) return tl::unexpected(std::string("an idx file with no dimensions"));
  const std::size_t header = 4 + 4 * static_cast<std::size_t>(rank);
  if (b.size() < header) return tl::unexpected(fmt::format("the header of {} dimensions is cut short", rank));
  std::uint64_t count = 1;
  for (int d = 0; d < rank; ++d) {
    a.dims.push_back(BigEndian32(b, 4 + 4 * static_cast<std::size_t>(d)));
    count *= a.dims.back();
    if (count > b.size()) break;  // no overflow: it is already too big
  }
  if (count != b.size() - header)
    return tl::unexpected(fmt::format("the dimensions promise {} values; the file holds {}", count, b.size() - header));
  a.data.assign(b.begin() + static_cast<std::ptrdiff_t>(header), b.end());
  return a;
}

tl::expected<IdxArray, std::string> ReadIdxFile(const std::string& path, std::size_t max_bytes) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return tl::unexpected(fmt::format("{}: cannot open", path));
  std::string bytes;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) {
    bytes.append(buf, static_cast<std::size_t>(n));
    if (bytes.size() > max_bytes) {
      gzclose(f);
      return tl::unexpected(fmt::format("{}: more than {} bytes once decompressed", path, max_bytes));
    }
  }
  // A cut-short gzip stream ends in 0 with an error set, not in -1.
  int err = Z_OK;
  const std::string why = gzerror(f, &err);
  gzclose(f);
  if (n < 0 || (err != Z_OK && err != Z_STREAM_END)) return tl::unexpected(fmt::format("{}: {}", path, why));
  auto a = ParseIdx(bytes);
  if (!a) return tl::unexpected(fmt::format("{}: {}", path, a.error()));
  return a;
}

std::string IdxBytes(std::uint8_t type, const std::vector<std::uint32_t>& dims, const std::uint8_t* data) {
  std::size_t count = 1;
  std::string b = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (std::uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<char>((d >> s) & 0xff));
    count *= d;
  }
  b.append(reinterpret_cast<const char*>(data), count);
  return b;
}

}  // namespace ergon::evaluators::learning
