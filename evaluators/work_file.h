// Whole files in an evaluation's working folder: what a run is given
// (instance files, a printed program), and what comes back.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace ergon::evaluators {

// Writes `text` to dir/name, whole; false when it could not.
inline bool WriteWorkFile(const std::string& dir, const std::string& name, const std::string& text) {
  std::ofstream f(std::filesystem::path(dir) / name, std::ios::binary);
  f << text;
  return static_cast<bool>(f);
}

// The whole file in one read (a stringstream copies it twice more), or
// nullopt when it cannot be read.
inline std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return std::nullopt;
  std::string text;
  char buf[1 << 16];
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  if (size > 0) text.reserve(static_cast<std::size_t>(size));
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) return std::nullopt;
  return text;
}

}  // namespace ergon::evaluators
