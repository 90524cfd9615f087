// Whole files: candidates, task specs, templates, printed programs.
#pragma once

#include <optional>
#include <string>

namespace ergon::base {

// The whole file in one read, or nullopt when it cannot be read.
std::optional<std::string> ReadFile(const std::string& path);

// Writes `text` to `path`, whole (created or truncated); false when it
// could not.
bool WriteFile(const std::string& path, const std::string& text);

}  // namespace ergon::base
