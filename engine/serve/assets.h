// The dashboard's files, embedded in the binary at build time (embed.cmake
// writes the table), so `ergon serve` needs no folder and no network.
#pragma once

#include <cstddef>
#include <string_view>

namespace ergon::engine::serve {

struct Asset {
  std::string_view path;  // "/index.html"
  std::string_view content_type;
  std::string_view body;
};

// The asset at exactly `path`, or null. Nothing else is ever served, so no
// request can name a file on disk.
const Asset* FindAsset(std::string_view path);

}  // namespace ergon::engine::serve
