// prompts: plain-text templates with {{name}} placeholders.
#pragma once

#include <map>
#include <string>

#include <tl/expected.hpp>

namespace ergon::prompts {

// Replaces every {{name}} with vars[name]. A placeholder with no value is an
// error naming it and its line, so a template never reaches an agent with a
// hole in it. Values are inserted verbatim (never re-scanned).
tl::expected<std::string, std::string> Render(const std::string& tmpl,
                                              const std::map<std::string, std::string>& vars);

}  // namespace ergon::prompts
