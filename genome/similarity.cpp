#include "genome/similarity.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

namespace ergon::genome {
namespace {

std::uint64_t Fnv1a(const char* p, std::size_t n) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(p[i]);
    h *= 1099511628211ull;
  }
  return h;
}

bool IdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

std::vector<std::uint64_t> NormalisedTokens(const std::string& s) {
  std::vector<std::uint64_t> out;
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '/' && i + 1 < n && s[i + 1] == '/') {
      while (i < n && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      const auto e = s.find("*/", i + 2);
      i = e == std::string::npos ? n : e + 2;
    } else if (c == '"' || c == '\'') {
      std::size_t j = i + 1;
      while (j < n && s[j] != c && s[j] != '\n') j += s[j] == '\\' ? 2 : 1;
      j = std::min(j + 1, n);
      out.push_back(Fnv1a(s.data() + i, j - i));
      i = j;
    } else if (IdentChar(c) || (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      // Identifiers and numbers (with their dots, exponents and suffixes).
      std::size_t j = i;
      const bool number = std::isdigit(static_cast<unsigned char>(c)) || c == '.';
      while (j < n && (IdentChar(s[j]) || (number && (s[j] == '.' || s[j] == '\'' ||
                                                       ((s[j] == '+' || s[j] == '-') && (s[j - 1] == 'e' || s[j - 1] == 'E'))))))
        ++j;
      out.push_back(Fnv1a(s.data() + i, j - i));
      i = j;
    } else {
      out.push_back(Fnv1a(s.data() + i, 1));
      ++i;
    }
  }
  return out;
}

double TokenSimilarity(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  if (a.empty() && b.empty()) return 1.0;
  if (a.empty() || b.empty()) return 0.0;
  if (a == b) return 1.0;
  // Bit-parallel LCS (Allison-Dix / Hyyrö): one pass over b, |a|/64 words each.
  const std::vector<std::uint64_t>& x = a.size() <= b.size() ? a : b;
  const std::vector<std::uint64_t>& y = a.size() <= b.size() ? b : a;
  const std::size_t words = (x.size() + 63) / 64;
  std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> match;
  for (std::size_t i = 0; i < x.size(); ++i) {
    auto& m = match[x[i]];
    if (m.empty()) m.assign(words, 0);
    m[i / 64] |= 1ull << (i % 64);
  }
  std::vector<std::uint64_t> v(words, ~0ull);
  const std::vector<std::uint64_t> none(words, 0);
  for (const auto t : y) {
    auto it = match.find(t);
    const std::vector<std::uint64_t>& m = it == match.end() ? none : it->second;
    std::uint64_t carry = 0;
    for (std::size_t w = 0; w < words; ++w) {
      const std::uint64_t u = v[w] & m[w];
      const std::uint64_t sum = v[w] + u + carry;
      carry = (sum < v[w]) || (carry && sum == v[w]) ? 1 : 0;
      v[w] = sum | (v[w] - u);
    }
  }
  std::size_t lcs = 0;
  for (std::size_t i = 0; i < x.size(); ++i) lcs += !((v[i / 64] >> (i % 64)) & 1);
  return 2.0 * static_cast<double>(lcs) / static_cast<double>(a.size() + b.size());
}

}  // namespace ergon::genome
