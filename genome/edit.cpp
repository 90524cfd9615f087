#include "genome/edit.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "genome/text.h"

namespace ergon::genome {
namespace {

using internal::CollapseSpace;
using internal::SplitLines;
using internal::Trim;

bool IsMarker(std::string_view line, char c, std::string_view word) {
  std::string_view t = internal::TrimView(line);
  std::size_t n = 0;
  while (n < t.size() && t[n] == c) ++n;
  if (n < 5) return false;
  return internal::TrimView(t.substr(n)) == word;
}

bool IsDivider(std::string_view line) {
  std::string_view t = internal::TrimView(line);
  return t.size() >= 5 && t.find_first_not_of('=') == std::string_view::npos;
}

EditError Err(EditErrorKind kind, std::string msg, int block = -1) {
  EditError e{kind, std::move(msg)};
  e.block = block;
  return e;
}

// Edit distance similarity of two lines, 0..1 (lines capped for speed).
double LineSimilarity(std::string_view a, std::string_view b) {
  a = a.substr(0, 160);
  b = b.substr(0, 160);
  if (a.empty() && b.empty()) return 1.0;
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return 1.0 - static_cast<double>(prev[b.size()]) / static_cast<double>(std::max(a.size(), b.size()));
}

// Finds windows of `hay` equal to `needle` under `key`. The needle's keys
// once; a line of the hay is keyed only where the window could start or
// continue (a multi-megabyte generated source is hundreds of thousands of
// lines, and copying them all per edit was most of an edit's time).
template <class Key>
std::vector<std::size_t> FindWindows(const std::vector<std::string>& hay, const std::vector<std::string>& needle, Key key) {
  std::vector<std::size_t> hits;
  if (needle.empty() || needle.size() > hay.size()) return hits;
  std::vector<std::string> n(needle.size());
  std::transform(needle.begin(), needle.end(), n.begin(), key);
  for (std::size_t i = 0; i + n.size() <= hay.size(); ++i) {
    std::size_t j = 0;
    while (j < n.size() && key(hay[i + j]) == n[j]) ++j;
    if (j == n.size()) hits.push_back(i);
  }
  return hits;
}

std::vector<std::string> StripBlankEnds(std::vector<std::string> v) {
  while (!v.empty() && Trim(v.back()).empty()) v.pop_back();
  auto first = std::find_if(v.begin(), v.end(), [](const std::string& s) { return !Trim(s).empty(); });
  v.erase(v.begin(), first);
  return v;
}

// Applies one edit to `lines` or explains why not.
tl::expected<void, EditError> ApplyOne(std::vector<std::string>& lines, const SearchReplace& e, int index) {
  auto needle = SplitLines(e.search);
  auto replacement = SplitLines(e.replace);
  if (StripBlankEnds(needle).empty())
    return tl::unexpected(Err(EditErrorKind::kNoMatch, fmt::format("edit {}: the SEARCH section is empty", index + 1), index));
  auto hits = FindWindows(lines, needle, [](const std::string& s) -> const std::string& { return s; });
  if (hits.empty()) {
    // One whitespace-tolerant try: spacing inside lines and blank lines at
    // the ends of the block do not matter.
    needle = StripBlankEnds(needle);
    hits = FindWindows(lines, needle, [](const std::string& s) { return CollapseSpace(s); });
  }
  if (hits.size() > 1) {
    std::string where;
    for (std::size_t i = 0; i < hits.size() && i < 5; ++i) where += fmt::format("{}{}", i ? ", " : "", hits[i] + 1);
    return tl::unexpected(Err(EditErrorKind::kAmbiguous,
                              fmt::format("edit {}: the SEARCH text occurs {} times (at lines {}); include more "
                                          "surrounding lines so it matches once", index + 1, hits.size(), where), index));
  }
  if (hits.empty()) {
    // Name the closest region, so the agent can copy the real text.
    double best = -1;
    std::size_t best_at = 0;
    const std::size_t n = needle.size();
    if (lines.size() >= 1) {
      std::size_t windows = lines.size() >= n ? lines.size() - n + 1 : 1;
      for (std::size_t i = 0; i < windows; ++i) {
        double s = 0;
        for (std::size_t j = 0; j < n && i + j < lines.size(); ++j)
          s += LineSimilarity(CollapseSpace(lines[i + j]), CollapseSpace(needle[j]));
        s /= static_cast<double>(n);
        if (s > best) { best = s; best_at = i; }
      }
    }
    EditError err = Err(EditErrorKind::kNoMatch, "", index);
    err.closest_first_line = static_cast<int>(best_at) + 1;
    err.closest_last_line = static_cast<int>(std::min(lines.size(), best_at + n));
    err.similarity = std::max(0.0, best);
    std::string excerpt;
    for (int l = err.closest_first_line; l <= err.closest_last_line && l - err.closest_first_line < 12; ++l)
      excerpt += lines[static_cast<std::size_t>(l - 1)] + "\n";
    err.message = fmt::format("edit {}: SEARCH text not found (even ignoring whitespace). Closest region: lines "
                              "{}-{} ({:.0f}% similar):\n{}", index + 1, err.closest_first_line,
                              err.closest_last_line, err.similarity * 100, excerpt);
    return tl::unexpected(err);
  }
  auto at = lines.begin() + static_cast<long>(hits[0]);
  at = lines.erase(at, at + static_cast<long>(needle.size()));
  lines.insert(at, replacement.begin(), replacement.end());
  return {};
}

}  // namespace

const char* EditErrorName(EditErrorKind kind) {
  switch (kind) {
    case EditErrorKind::kNoEdit: return "no_edit";
    case EditErrorKind::kMalformed: return "malformed";
    case EditErrorKind::kNoMatch: return "no_match";
    case EditErrorKind::kAmbiguous: return "ambiguous";
    case EditErrorKind::kOutsideBlocks: return "outside_blocks";
    case EditErrorKind::kWholeFileRefused: return "whole_file_refused";
    case EditErrorKind::kNoChange: return "no_change";
    case EditErrorKind::kInvalidResult: return "invalid_result";
  }
  return "unknown";
}

tl::expected<Proposal, EditError> ParseProposal(const std::string& text) {
  const std::string normalised = internal::NormaliseNewlines(text);
  Proposal p;
  // A marker is at least five '<': without them, skip the line-by-line scan
  // (a whole-file reply can be megabytes).
  const auto lines = normalised.find("<<<<<") == std::string::npos ? std::vector<std::string_view>()
                                                                     : internal::SplitLineViews(normalised);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!IsMarker(lines[i], '<', "SEARCH")) continue;
    SearchReplace e;
    e.proposal_line = static_cast<int>(i) + 1;
    std::size_t j = i + 1;
    while (j < lines.size() && !IsDivider(lines[j])) {
      if (IsMarker(lines[j], '<', "SEARCH") || IsMarker(lines[j], '>', "REPLACE"))
        return tl::unexpected(Err(EditErrorKind::kMalformed,
                                  fmt::format("proposal line {}: SEARCH block opened at line {} has no ======= divider",
                                              j + 1, i + 1)));
      e.search.append(lines[j++]);
      e.search += '\n';
    }
    if (j >= lines.size())
      return tl::unexpected(Err(EditErrorKind::kMalformed,
                                fmt::format("proposal line {}: SEARCH block has no ======= divider", i + 1)));
    std::size_t k = j + 1;
    while (k < lines.size() && !IsMarker(lines[k], '>', "REPLACE")) {
      if (IsMarker(lines[k], '<', "SEARCH") || IsDivider(lines[k]))
        return tl::unexpected(Err(EditErrorKind::kMalformed,
                                  fmt::format("proposal line {}: block opened at line {} has no >>>>>>> REPLACE marker",
                                              k + 1, i + 1)));
      e.replace.append(lines[k++]);
      e.replace += '\n';
    }
    if (k >= lines.size())
      return tl::unexpected(Err(EditErrorKind::kMalformed,
                                fmt::format("proposal line {}: SEARCH block has no >>>>>>> REPLACE marker", i + 1)));
    p.edits.push_back(std::move(e));
    i = k;
  }
  if (!p.edits.empty()) return p;

  // No blocks: the longest fenced code block is the whole new file. A fence
  // is a line that starts with ``` (blanks aside); the block ends at the next
  // line that is ``` alone. Found by searching for ```, not line by line.
  const std::string_view all = normalised;
  auto line_at = [&](std::size_t at) {  // the line holding position `at`
    const std::size_t nl_before = at == 0 ? std::string_view::npos : all.rfind('\n', at - 1);
    const std::size_t begin = nl_before == std::string_view::npos ? 0 : nl_before + 1;
    const std::size_t nl = all.find('\n', at);
    return all.substr(begin, (nl == std::string_view::npos ? all.size() : nl) - begin);
  };
  auto end_of = [&](std::string_view line) { return static_cast<std::size_t>(line.data() - all.data()) + line.size(); };
  std::string_view best;
  bool found = false;
  for (std::size_t at = all.find("```"); at != std::string_view::npos;) {
    const std::string_view open = line_at(at);
    if (internal::TrimView(open).rfind("```", 0) != 0) {
      at = all.find("```", end_of(open));
      continue;
    }
    const std::size_t body = end_of(open) + 1;  // past the fence line's '\n'
    std::optional<std::string_view> close;
    for (std::size_t c = body < all.size() ? all.find("```", body) : std::string_view::npos;
         c != std::string_view::npos;) {
      const std::string_view l = line_at(c);
      if (internal::TrimView(l) == "```") {
        close = l;
        break;
      }
      c = all.find("```", end_of(l));
    }
    if (!close) break;  // unterminated fence: not a file
    const std::size_t close_begin = static_cast<std::size_t>(close->data() - all.data());
    const std::string_view block = all.substr(body, close_begin - body);
    if (!found || block.size() > best.size()) best = block;
    found = true;
    at = all.find("```", end_of(*close));
  }
  if (found && !internal::TrimView(best).empty()) {
    p.whole_file = std::string(best);
    return p;
  }
  return tl::unexpected(Err(EditErrorKind::kNoEdit,
                            "no SEARCH/REPLACE block and no fenced code block found in the reply; answer with "
                            "<<<<<<< SEARCH / ======= / >>>>>>> REPLACE blocks or one complete file in ``` fences"));
}

tl::expected<Genome, EditError> ApplyProposal(const Genome& parent, const std::string& proposal_text,
                                              const EditPolicy& policy) {
  auto p = ParseProposal(proposal_text);
  if (!p) return tl::unexpected(p.error());
  return ApplyProposal(parent, *p, policy);
}

tl::expected<Genome, EditError> ApplyProposal(const Genome& parent, const Proposal& proposal,
                                              const EditPolicy& policy) {
  std::string result;
  if (proposal.whole_file) {
    result = internal::NormaliseNewlines(*proposal.whole_file);
  } else {
    auto lines = SplitLines(parent.source());
    for (std::size_t i = 0; i < proposal.edits.size(); ++i) {
      auto ok = ApplyOne(lines, proposal.edits[i], static_cast<int>(i));
      if (!ok) return tl::unexpected(ok.error());
    }
    result = internal::JoinLines(lines);
  }
  auto child = Genome::Parse(result);
  if (!child)
    if (auto followed = FollowKnobLiterals(result); followed != result)
      if (auto again = Genome::Parse(followed)) child = std::move(again);
  if (child && child->Hash() == parent.Hash())
    return tl::unexpected(Err(EditErrorKind::kNoChange, "the proposal changes nothing (same source as the parent)"));
  if (!child)  // (a source equal to the valid parent always parses)
    return tl::unexpected(Err(EditErrorKind::kInvalidResult, "the edited source is invalid: " + child.error()));
  if (!policy.allow_whole_file && !parent.blocks().empty() && child->FrozenParts() != parent.FrozenParts()) {
    std::string blocks;
    for (const auto& b : parent.blocks()) blocks += fmt::format(" {}-{}", b.start_line, b.end_line);
    return tl::unexpected(Err(proposal.whole_file ? EditErrorKind::kWholeFileRefused : EditErrorKind::kOutsideBlocks,
                              fmt::format("the proposal changes text outside the evolve blocks (lines{}); only code "
                                          "between EVOLVE-BLOCK-START and EVOLVE-BLOCK-END may change", blocks)));
  }
  return *std::move(child);
}

}  // namespace ergon::genome
