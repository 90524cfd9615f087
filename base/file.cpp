#include "base/file.h"

#include <cstdio>
#include <memory>

namespace ergon::base {
namespace {
struct Closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, Closer>;
}  // namespace

std::optional<std::string> ReadFile(const std::string& path) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) return std::nullopt;
  std::string text;
  // Sized first: a stringstream would copy a generated program twice more.
  if (std::fseek(f.get(), 0, SEEK_END) == 0) {
    const long size = std::ftell(f.get());
    if (size > 0) text.reserve(static_cast<std::size_t>(size));
    std::fseek(f.get(), 0, SEEK_SET);
  }
  char buf[1 << 16];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f.get())) > 0;) text.append(buf, n);
  if (std::ferror(f.get())) return std::nullopt;
  return text;
}

bool WriteFile(const std::string& path, const std::string& text) {
  File f(std::fopen(path.c_str(), "wb"));
  if (!f) return false;
  const bool written = std::fwrite(text.data(), 1, text.size(), f.get()) == text.size();
  return written && std::fclose(f.release()) == 0;
}

}  // namespace ergon::base
