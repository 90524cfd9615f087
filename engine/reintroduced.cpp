#include "engine/reintroduced.h"

#include <algorithm>
#include <map>

namespace ergon::engine {
namespace {

// Significant lines, trimmed, with how often each occurs.
std::map<std::string, int> Lines(const std::string& text) {
  std::map<std::string, int> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    std::size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    const auto b = text.find_first_not_of(" \t\r", at);
    if (b != std::string::npos && b < nl) {
      const auto e = text.find_last_not_of(" \t\r", nl - 1);
      std::string line = text.substr(b, e - b + 1);
      const bool punctuation = std::all_of(line.begin(), line.end(), [](char c) {
        return c == '{' || c == '}' || c == '(' || c == ')' || c == ';' || c == ',' || c == ' ';
      });
      if (!punctuation) ++out[line];
    }
    at = nl + 1;
  }
  return out;
}

// Lines of `a` beyond their count in `b` (a multiset difference).
std::map<std::string, int> Minus(const std::map<std::string, int>& a, const std::map<std::string, int>& b) {
  std::map<std::string, int> out;
  for (const auto& [line, n] : a) {
    const auto it = b.find(line);
    const int more = n - (it == b.end() ? 0 : it->second);
    if (more > 0) out[line] = more;
  }
  return out;
}

}  // namespace

Reintroduction CountReintroduced(const std::string& parent, const std::string& child,
                                 const std::vector<LineageStep>& lineage) {
  Reintroduction r;
  const auto added = Minus(Lines(child), Lines(parent));
  for (const auto& [line, n] : added) r.added += n;
  std::map<std::string, int> readded;  // line -> how many of its additions an ancestor had deleted
  for (const auto& step : lineage) {
    const auto deleted = Minus(Lines(step.before), Lines(step.after));
    bool this_step = false;
    for (const auto& [line, n] : added) {
      const auto it = deleted.find(line);
      if (it == deleted.end()) continue;
      int& got = readded[line];
      const int more = std::min(n, got + it->second) - got;
      if (more > 0) {
        got += more;
        this_step = true;
      }
    }
    if (this_step && r.by == 0) {
      r.by = step.id;
      r.by_metric = step.metric;
    }
  }
  for (const auto& [line, n] : readded) r.lines += n;
  return r;
}

}  // namespace ergon::engine
