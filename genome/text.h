// Line-level text helpers shared by the genome files (internal).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ergon::genome::internal {

// Splits on '\n', dropping one trailing '\r' per line. A final newline does
// not produce an empty last line.
std::vector<std::string> SplitLines(std::string_view text);
// The same lines as views into `text` (which must outlive them): a
// generated source has hundreds of thousands, and reading them needs no copy.
std::vector<std::string_view> SplitLineViews(std::string_view text);
std::string JoinLines(const std::vector<std::string>& lines);  // each + '\n'
std::string NormaliseNewlines(std::string_view text);           // CRLF, CR -> LF
std::string Trim(std::string_view s);
std::string_view TrimView(std::string_view s);
// Trimmed, with every run of spaces/tabs collapsed to one space.
std::string CollapseSpace(std::string_view s);

}  // namespace ergon::genome::internal
