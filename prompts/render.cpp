#include "prompts/render.h"

#include <algorithm>

namespace ergon::prompts {

tl::expected<std::string, std::string> Render(const std::string& tmpl,
                                              const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(tmpl.size());
  std::size_t pos = 0;
  while (pos < tmpl.size()) {
    auto open = tmpl.find("{{", pos);
    if (open == std::string::npos) break;
    auto close = tmpl.find("}}", open + 2);
    auto line = 1 + std::count(tmpl.begin(), tmpl.begin() + static_cast<long>(open), '\n');
    if (close == std::string::npos)
      return tl::unexpected("line " + std::to_string(line) + ": '{{' without '}}'");
    std::string name = tmpl.substr(open + 2, close - open - 2);
    auto it = vars.find(name);
    if (it == vars.end())
      return tl::unexpected("line " + std::to_string(line) + ": no value for placeholder {{" + name + "}}");
    out.append(tmpl, pos, open - pos);
    out += it->second;
    pos = close + 2;
  }
  out.append(tmpl, pos, std::string::npos);
  return out;
}

}  // namespace ergon::prompts
