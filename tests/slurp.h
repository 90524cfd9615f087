// Test helper: a whole file as a string ("" when unreadable).
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

inline std::string Slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
