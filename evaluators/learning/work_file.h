// Writing an instance's input files into a learner's working directory.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

namespace ergon::evaluators::learning {

// Writes `text` to dir/name, whole; false when it could not.
inline bool WriteWorkFile(const std::string& dir, const std::string& name, const std::string& text) {
  std::ofstream f(std::filesystem::path(dir) / name, std::ios::binary);
  f << text;
  return static_cast<bool>(f);
}

}  // namespace ergon::evaluators::learning
