#include "sandbox/precompiled_header.h"

#include <unistd.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "sandbox/sandbox.h"

namespace ergon::sandbox {
namespace {

std::string Trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// "#include <vector>" (spaces allowed) -> "vector"; empty if not that shape
// or the name holds anything but a header name's characters.
std::string AngleInclude(const std::string& line) {
  if (line.empty() || line[0] != '#') return "";
  std::string rest = Trim(line.substr(1));
  if (rest.rfind("include", 0) != 0) return "";
  rest = Trim(rest.substr(7));
  if (rest.size() < 3 || rest.front() != '<') return "";
  auto close = rest.find('>');
  if (close == std::string::npos) return "";
  const std::string after = Trim(rest.substr(close + 1));
  if (!after.empty() && after.rfind("//", 0) != 0) return "";  // only a line comment may follow
  std::string name = rest.substr(1, close - 1);
  if (name.empty()) return "";
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '/' && c != '.' && c != '+' && c != '-')
      return "";
  if (name.find("..") != std::string::npos || name.front() == '/') return "";  // system headers only
  return name;
}

}  // namespace

std::vector<std::string> LeadingSystemIncludes(const std::string& source) {
  std::vector<std::string> out;
  std::istringstream in(source);
  std::string line;
  bool in_comment = false;
  while (std::getline(in, line)) {
    std::string t = Trim(line);
    if (in_comment) {
      auto end = t.find("*/");
      if (end == std::string::npos) continue;
      in_comment = false;
      t = Trim(t.substr(end + 2));
    }
    if (t.empty() || t.rfind("//", 0) == 0) continue;
    if (t.rfind("/*", 0) == 0) {
      auto end = t.find("*/", 2);
      if (end == std::string::npos) {
        in_comment = true;
        continue;
      }
      if (!Trim(t.substr(end + 2)).empty()) break;
      continue;
    }
    std::string name = AngleInclude(t);
    if (name.empty()) break;
    out.push_back(name);
  }
  return out;
}

PchCache::PchCache() = default;
PchCache::~PchCache() = default;

std::string PchCache::For(const Sandbox& sandbox, const std::string& compiler, const std::vector<std::string>& flags,
                          const std::vector<std::string>& headers) {
  if (headers.empty()) return "";
  std::string key = compiler;
  for (const auto& f : flags) key += '\x1f' + f;
  key += '\x1e';
  for (const auto& h : headers) key += '\x1f' + h;
  base::MutexLock hold(&mu_);
  if (auto it = built_.find(key); it != built_.end()) return it->second ? it->second->path() : "";
  std::shared_ptr<ScratchDir> dir;
  // Built as candidates are compiled: in the sandbox, with the same flags
  // (GCC uses a precompiled header only under the flags it was made with).
  if (auto made = ScratchDir::Create(sandbox, "ergon-pch-")) {
    dir = std::make_shared<ScratchDir>(std::move(*made));
    {
      std::ofstream h(dir->path() + "/ergon_pch.h");
      h << "// ergon: the system headers candidates include first, precompiled\n";
      for (const auto& name : headers) h << "#include <" << name << ">\n";
    }
    RunSpec spec;
    spec.argv = {compiler};
    spec.argv.insert(spec.argv.end(), flags.begin(), flags.end());
    spec.argv.insert(spec.argv.end(), {"-x", "c++-header", "ergon_pch.h", "-o", "ergon_pch.h.gch"});
    spec.work_dir = dir->path();
    spec.limits.wall_s = 120;
    spec.limits.cpu_s = 120;
    spec.limits.address_space = 4ull << 30;
    spec.limits.file_size = 512ull << 20;
    spec.limits.processes = 64;
    auto run = sandbox.Run(spec);
    if (!run || !run->ok() || ::access((dir->path() + "/ergon_pch.h.gch").c_str(), R_OK) != 0) dir.reset();
  }
  built_[key] = dir;
  return dir ? dir->path() : "";
}

}  // namespace ergon::sandbox
