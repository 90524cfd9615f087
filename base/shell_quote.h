// A word for a POSIX shell: as it is when it holds only characters no shell
// treats specially, else in single quotes (a ' inside becomes '\'').
#pragma once

#include <string>

namespace ergon::base {

inline std::string ShellQuote(const std::string& s) {
  if (!s.empty() &&
      s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./") == std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace ergon::base
