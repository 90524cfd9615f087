// Test helper: world-readable files planted where a person keeps things
// (a home, /srv, /opt, a data set...), for the hunting candidates of the
// hostile gallery; removed again, with the folders made for them.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

struct Plants {
  std::vector<std::filesystem::path> dirs, files;
  // Makes `dirs` (0755), then writes `text` to each of `files` (0644).
  Plants(std::vector<std::filesystem::path> d, std::vector<std::filesystem::path> f, const std::string& text)
      : dirs(std::move(d)), files(std::move(f)) {
    namespace fs = std::filesystem;
    for (const auto& dir : dirs) {
      fs::create_directories(dir);
      fs::permissions(dir, fs::perms(0755));
    }
    for (const auto& file : files) {
      std::ofstream(file) << text;
      fs::permissions(file, fs::perms(0644));
    }
  }
  ~Plants() {
    std::error_code ec;
    for (const auto& f : files) std::filesystem::remove(f, ec);
    for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
  }
  Plants(const Plants&) = delete;
  Plants& operator=(const Plants&) = delete;
};
