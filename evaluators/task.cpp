#include "evaluators/task.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/core.h>

#include "evaluators/builtin_tasks.h"
#include "evaluators/external_task.h"
#include "evaluators/learning/cachegrind_meter.h"
#include "evaluators/versions.h"

namespace ergon::evaluators {
namespace fs = std::filesystem;

std::string Task::CheckRequest(const TaskEvalRequest& q) const {
  const auto& m = spec_.meters;
  if (!q.meter.empty() && std::find(m.begin(), m.end(), q.meter) == m.end()) {
    std::string list;
    for (const auto& x : m) list += (list.empty() ? "" : " | ") + x;
    return fmt::format("task {} takes the meters {} (got --meter {})", spec_.name, list, q.meter);
  }
  if (q.suite != "dev" && q.suite != "fresh")
    return fmt::format("task {} has the suites dev and fresh (got '{}')", spec_.name, q.suite);
  return {};
}

std::map<std::string, std::string> Task::ExportFiles(const std::string& source, const std::string& language) const {
  const bool cuda = language == "cuda";
  const std::string file = cuda ? "candidate.cu" : "candidate.cpp";
  const std::string build = cuda ? "nvcc -O2 -std=c++17 -o candidate candidate.cu"
                                 : "g++ -O2 -std=c++20 -o candidate candidate.cpp";
  return {{file, source}, {"build.sh", "#!/bin/sh\nset -e\ncd \"$(dirname \"$0\")\"\n" + build + "\n"}};
}

std::string Task::AgentFacts(const std::string& meter) const {
  const TaskSpec& s = spec_;
  std::string f;
  if (s.language == "cuda")
    f += "How it is built: nvcc -O2 -std=c++17 candidate.cu (one file; the CUDA runtime and the C++ standard library).\n";
  else
    f += "How it is built: g++ -O2 -g1 -std=c++20 candidate.cpp (one file, C++20, the standard library only).\n";
  if (s.external())
    f += "What it sees: its working directory holds one instance's input files, made by the task's trusted harness; "
         "what the candidate writes there is scored by that harness, which it cannot see.\n";
  f += fmt::format("How it runs: in a sandbox with no network, reading and writing only its working directory; "
                   "at most {:g} s and 8 GiB of memory per instance; {} instance{} of the dev suite (a new best is "
                   "checked again on fresh instances it has never seen).\n",
                   s.timeout_s, s.instances, s.instances == 1 ? "" : "s");
  if (!s.params.empty()) {
    std::string p;
    for (const auto& [k, v] : s.params) p += fmt::format("{}{}={:g}", p.empty() ? "" : ", ", k, v);
    f += "Parameters: " + p + ".\n";
  }
  if (meter == "cachemodel") {
    const learning::EnergyModel e;
    const learning::CacheGeometry g;
    f += fmt::format(
        "Energy model (cachemodel): every instruction the learner executes, its children's included, is counted by a "
        "simulated cache (valgrind cachegrind; I1 {}, D1 {}, LL {}: size, ways, line bytes) and priced: "
        "{:g} pJ per instruction, {:g} pJ per L1 data access (read or write), {:g} pJ per L1 miss (a 64-byte line "
        "from the last level), {:g} pJ per last-level miss (a line from DRAM). So a DRAM miss costs {:g} "
        "instructions and an L1 access {:g}: touch less data, keep it small and close, and read fewer rows.\n",
        g.i1, g.d1, g.ll, e.instruction_pj, e.l1_access_pj, e.ll_line_pj, e.dram_line_pj,
        e.dram_line_pj / e.instruction_pj, e.l1_access_pj / e.instruction_pj);
  } else if (meter == "nvml") {
    f += "Energy model (nvml): the GPU's own energy counter, read around the run, less the idle power over the same "
         "window: joules as the board measures them.\n";
  } else if (meter == "wall") {
    f += "Meter (wall): wall-clock time only; no energy is measured.\n";
  }
  return f;
}

void Task::Judge(Measurement& m) const {
  m.gate_passed = false;
  m.fitness = -1e300;
  m.objectives.clear();
  if (!m.ran) return;
  auto get = [&](const std::string& n) -> std::optional<double> {
    auto it = m.metrics.find(n);
    return it == m.metrics.end() ? std::nullopt : std::optional<double>(it->second);
  };
  const auto gate = get(spec_.gate_metric);
  m.gate_passed = gate && *gate >= spec_.gate_min;
  // The wall meter measures no energy: its time is what is minimised then.
  // Any other meter without the metric (a learner cut off before the meter
  // could count) has nothing to rank by.
  auto main = get(spec_.minimise);
  if (!main && m.meter == "wall") main = get("wall_s");
  if (main) m.fitness = -*main;
  m.objectives = {gate ? -*gate : 0.0, main.value_or(1e300)};
  for (const auto& r : spec_.record) m.objectives.push_back(get(r).value_or(0.0));
  if (m.cell.empty() && gate && main)
    m.cell = fmt::format("gate:{}|min:2^{}", static_cast<int>(std::clamp(*gate, 0.0, 1.0) * 20),
                         static_cast<int>(std::floor(std::log2(std::max(*main, 1e-300)))));
}

std::string DeviceFor(const std::string& meter) {
  if (meter == "dally") return "static";
  if (meter == "cachemodel") return kCachemodelDevice;
  if (meter == "nvml") return "gpu";
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpu, line))
    if (line.rfind("model name", 0) == 0) return "host: " + line.substr(line.find(':') + 2);
  return "host";
}

TaskRegistry TaskRegistry::Load(const std::string& home, const std::vector<std::string>& extra_dirs) {
  TaskRegistry reg;
  std::vector<std::string> roots = extra_dirs;
  if (const char* env = std::getenv("ERGON_TASKS"))
    for (std::string rest = env; !rest.empty();) {
      auto colon = rest.find(':');
      std::string d = rest.substr(0, colon);
      if (!d.empty()) roots.push_back(d);
      rest = colon == std::string::npos ? "" : rest.substr(colon + 1);
    }
  if (!home.empty()) roots.push_back(home + "/evaluators");
  std::set<std::string> seen;
  for (const auto& root : roots) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
      reg.problems_.push_back(fmt::format("{}: not a folder of tasks", root));
      continue;
    }
    // A folder given directly (DIR/task.json) is one task; else each subfolder.
    std::vector<fs::path> dirs;
    if (fs::exists(fs::path(root) / "task.json", ec)) dirs.push_back(root);
    else
      for (const auto& e : fs::directory_iterator(root, ec))
        if (e.is_directory() && fs::exists(e.path() / "task.json")) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs) {
      const std::string name = fs::absolute(d).lexically_normal().filename().string();
      // An earlier place wins, broken or not: a user's broken copy of a
      // task must not silently fall back to another folder's.
      if (!seen.insert(name).second) continue;
      auto spec = ReadTaskSpec(d.string());
      if (!spec) reg.problems_.push_back(spec.error());
      else reg.specs_.push_back(std::move(*spec));
    }
  }
  std::sort(reg.specs_.begin(), reg.specs_.end(), [](const TaskSpec& a, const TaskSpec& b) { return a.name < b.name; });
  return reg;
}

const TaskSpec* TaskRegistry::Find(const std::string& name) const {
  for (const auto& s : specs_)
    if (s.name == name) return &s;
  return nullptr;
}

tl::expected<std::unique_ptr<Task>, std::string> TaskRegistry::Open(const std::string& name) const {
  const TaskSpec* spec = Find(name);
  if (!spec) {
    for (const auto& p : problems_)
      if (p.find("/" + name + "/task.json") != std::string::npos) return tl::unexpected(p);
    std::string known;
    for (const auto& s : specs_) known += (known.empty() ? "" : ", ") + s.name;
    return tl::unexpected(fmt::format("unknown task '{}' (known: {}; `ergon tasks` lists them, --tasks DIR adds a folder)",
                                      name, known.empty() ? "none" : known));
  }
  if (spec->external()) return MakeExternalTask(*spec);
  if (auto t = MakeBuiltinTask(*spec)) return t;
  return tl::unexpected(fmt::format("{}: task {} has no harness: add \"harness\" (evaluators/README.md)", spec->file, name));
}

}  // namespace ergon::evaluators
