// The idx format of the MNIST family of data sets, read and written by
// ergon itself: a magic number (two zero bytes, a type byte, the number of
// dimensions), one big-endian 32-bit size per dimension, then the values in
// row-major order. Only the byte types are handled (unsigned 0x08, signed
// 0x09): the data sets ship images and labels as bytes, and ergon hands
// candidates signed bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace ergon::evaluators::learning {

inline constexpr std::uint8_t kIdxUnsignedByte = 0x08;
inline constexpr std::uint8_t kIdxSignedByte = 0x09;

struct IdxArray {
  std::uint8_t type = kIdxUnsignedByte;
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;  // the values as stored (a signed byte's bits as they are)
};

// Parses a whole idx file. Errors say what is wrong and where: a bad magic,
// a type other than a byte, a size that does not match the bytes present.
tl::expected<IdxArray, std::string> ParseIdx(std::string_view bytes);

// Reads and parses a file, gzip-compressed or not (zlib tells them apart).
// At most `max_bytes` once decompressed, so a hostile or broken file cannot
// fill memory.
tl::expected<IdxArray, std::string> ReadIdxFile(const std::string& path, std::size_t max_bytes = 256u << 20);

// The file's bytes for `data` (whose size must be the product of dims).
std::string IdxBytes(std::uint8_t type, const std::vector<std::uint32_t>& dims, const std::uint8_t* data);

}  // namespace ergon::evaluators::learning
