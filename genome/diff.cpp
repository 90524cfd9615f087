#include "genome/diff.h"

#include <algorithm>
#include <vector>

#include <fmt/core.h>

#include "genome/text.h"

namespace ergon::genome {
namespace {

enum class Op { kKeep, kDel, kAdd };
struct Step {
  Op op;
  int a, b;  // line index in from / to
};

// Myers' greedy shortest edit script. Each round's frontier (diagonals -d..d)
// is kept so the path can be walked back: O(D^2) memory, so beyond kMaxD
// edits we fall back to "delete all, add all", still a correct diff.
constexpr int kMaxD = 4000;

std::vector<Step> EditScript(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  const int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());
  const int max = std::min(n + m, kMaxD), off = max + 1;
  std::vector<int> v(2 * static_cast<std::size_t>(max) + 3, 0);
  std::vector<std::vector<int>> trace;  // trace[d][k + d] = v[k] before round d
  int found_d = -1;
  for (int d = 0; d <= max && found_d < 0; ++d) {
    trace.emplace_back(v.begin() + off - d, v.begin() + off + d + 1);
    for (int k = -d; k <= d; k += 2) {
      int x = (k == -d || (k != d && v[off + k - 1] < v[off + k + 1])) ? v[off + k + 1] : v[off + k - 1] + 1;
      int y = x - k;
      while (x < n && y < m && a[x] == b[y]) { ++x; ++y; }
      v[off + k] = x;
      if (x >= n && y >= m) { found_d = d; break; }
    }
  }
  std::vector<Step> steps;
  if (found_d < 0) {
    for (int i = 0; i < n; ++i) steps.push_back({Op::kDel, i, 0});
    for (int j = 0; j < m; ++j) steps.push_back({Op::kAdd, n, j});
    return steps;
  }
  int x = n, y = m;
  for (int d = found_d; d > 0; --d) {
    const auto& pv = trace[static_cast<std::size_t>(d)];
    auto at = [&](int k) { return pv[static_cast<std::size_t>(k + d)]; };
    int k = x - y;
    int pk = (k == -d || (k != d && at(k - 1) < at(k + 1))) ? k + 1 : k - 1;
    int px = at(pk), py = px - pk;
    while (x > px && y > py) { --x; --y; steps.push_back({Op::kKeep, x, y}); }
    if (x == px) { --y; steps.push_back({Op::kAdd, x, y}); }
    else { --x; steps.push_back({Op::kDel, x, y}); }
  }
  while (x > 0 && y > 0) { --x; --y; steps.push_back({Op::kKeep, x, y}); }
  return {steps.rbegin(), steps.rend()};
}

}  // namespace

std::string UnifiedDiff(const std::string& from, const std::string& to, const DiffOptions& options) {
  const auto a = internal::SplitLines(internal::NormaliseNewlines(from));
  const auto b = internal::SplitLines(internal::NormaliseNewlines(to));
  const auto steps = EditScript(a, b);
  const int ctx = std::max(0, options.context);
  std::string out;
  std::size_t i = 0;
  while (i < steps.size()) {
    // Next change.
    std::size_t c = i;
    while (c < steps.size() && steps[c].op == Op::kKeep) ++c;
    if (c == steps.size()) break;
    std::size_t begin = c >= static_cast<std::size_t>(ctx) + i ? c - static_cast<std::size_t>(ctx) : i;
    // Extend the hunk while changes are within 2*ctx lines of each other.
    std::size_t end = c;
    for (;;) {
      while (end < steps.size() && steps[end].op != Op::kKeep) ++end;
      std::size_t run = end;
      while (run < steps.size() && steps[run].op == Op::kKeep) ++run;
      if (run < steps.size() && run - end <= 2 * static_cast<std::size_t>(ctx)) { end = run; continue; }
      end = std::min(steps.size(), end + static_cast<std::size_t>(ctx));
      break;
    }
    int a_start = steps[begin].a, b_start = steps[begin].b, a_len = 0, b_len = 0;
    std::string body;
    for (std::size_t s = begin; s < end; ++s) {
      const Step& st = steps[s];
      if (st.op == Op::kKeep) { body += " " + a[static_cast<std::size_t>(st.a)] + "\n"; ++a_len; ++b_len; }
      else if (st.op == Op::kDel) { body += "-" + a[static_cast<std::size_t>(st.a)] + "\n"; ++a_len; }
      else { body += "+" + b[static_cast<std::size_t>(st.b)] + "\n"; ++b_len; }
    }
    if (out.empty()) out = fmt::format("--- {}\n+++ {}\n", options.from_name, options.to_name);
    out += fmt::format("@@ -{},{} +{},{} @@\n", a_len ? a_start + 1 : a_start, a_len, b_len ? b_start + 1 : b_start, b_len);
    out += body;
    i = end;
  }
  return out;
}

}  // namespace ergon::genome
