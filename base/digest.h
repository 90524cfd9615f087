// SHA-256 and base64, from libcrypto (OpenSSL): content hashes of
// candidates and blobs, task.json fingerprints, and text carried inert
// inside generated sources.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ergon::base {

// SHA-256 of raw bytes (FIPS 180-4), as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view bytes);

// Standard base64 (RFC 4648, with padding, no line breaks).
std::string Base64Encode(std::string_view bytes);

// The bytes `text` encodes; whitespace and line breaks are skipped. nullopt
// when it is not base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace ergon::base
