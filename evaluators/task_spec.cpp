#include "evaluators/task_spec.h"

#include "evaluators/dally/board.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace ergon::evaluators {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

// Field readers: each failure names the field as a dotted path.
struct Reader {
  const std::string& file;
  std::string error;

  bool Fail(const std::string& field, const std::string& what) {
    if (error.empty()) error = fmt::format("{}: field \"{}\": {}", file, field, what);
    return false;
  }
  bool String(const json& j, const char* key, const std::string& path, std::string& out, bool required) {
    if (!j.contains(key)) return required ? Fail(path, "missing") : true;
    if (!j[key].is_string() || j[key].get<std::string>().empty()) return Fail(path, "expected a non-empty string");
    out = j[key].get<std::string>();
    return true;
  }
  bool Number(const json& j, const char* key, const std::string& path, double& out, bool required) {
    if (!j.contains(key)) return required ? Fail(path, "missing") : true;
    if (!j[key].is_number()) return Fail(path, "expected a number");
    out = j[key].get<double>();
    return true;
  }
  bool Strings(const json& j, const char* key, const std::string& path, std::vector<std::string>& out, bool required) {
    if (!j.contains(key)) return required ? Fail(path, "missing") : true;
    if (!j[key].is_array()) return Fail(path, "expected an array of strings");
    out.clear();
    for (const auto& v : j[key]) {
      if (!v.is_string() || v.get<std::string>().empty()) return Fail(path, "expected an array of non-empty strings");
      out.push_back(v.get<std::string>());
    }
    return true;
  }
};

void AddUnique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

}  // namespace

bool IsMetricName(const std::string& n) {
  return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  });
}

// Levenshtein distance, for "did you mean".
std::size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// A key the reader does not know is a typo until shown otherwise: an error
// naming it and the nearest known key. Keys starting with '_' are comments.
bool KnownKeys(Reader& r, const json& j, const std::string& where, std::initializer_list<const char*> known) {
  if (!j.is_object()) return true;
  for (const auto& [key, value] : j.items()) {
    if (!key.empty() && key[0] == '_') continue;
    std::string nearest;
    std::size_t best = SIZE_MAX;
    bool found = false;
    for (const char* k : known) {
      if (key == k) found = true;
      const std::size_t d = EditDistance(key, k);
      if (d < best) best = d, nearest = k;
    }
    if (found) continue;
    return r.Fail(where.empty() ? key : where + "." + key,
                  fmt::format("unknown key (did you mean \"{}\"? keys starting with '_' are comments)", nearest));
  }
  return true;
}

tl::expected<TaskSpec, std::string> ReadTaskSpec(const std::string& dir) {
  TaskSpec t;
  std::error_code ec;
  t.dir = fs::absolute(dir, ec).lexically_normal().string();
  if (!t.dir.empty() && t.dir.back() == '/') t.dir.pop_back();
  t.name = fs::path(t.dir).filename().string();
  t.file = t.dir + "/task.json";
  std::ifstream in(t.file);
  if (!in) return tl::unexpected(fmt::format("{}: cannot read", t.file));
  std::stringstream text;
  text << in.rdbuf();
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::exception& e) {
    return tl::unexpected(fmt::format("{}: invalid JSON: {}", t.file, e.what()));
  }
  Reader r{t.file, {}};
  auto fail = [&]() { return tl::unexpected(r.error); };
  if (!j.is_object()) return tl::unexpected(fmt::format("{}: expected a JSON object", t.file));
  if (!KnownKeys(r, j, "", {"summary", "description", "language", "baseline", "objectives", "meter", "meters",
                            "metrics", "instances", "timeout_s", "edits", "params", "harness", "dally"}))
    return fail();
  if (j.contains("objectives")) {
    if (!KnownKeys(r, j["objectives"], "objectives", {"gate", "minimise", "record"})) return fail();
    if (j["objectives"].is_object() && j["objectives"].contains("gate") &&
        !KnownKeys(r, j["objectives"]["gate"], "objectives.gate", {"metric", "min", "bands"}))
      return fail();
  }
  if (j.contains("edits") && !KnownKeys(r, j["edits"], "edits", {"whole_file"})) return fail();
  if (j.contains("harness") && !KnownKeys(r, j["harness"], "harness", {"prepare", "score", "timeout_s"})) return fail();
  if (j.contains("dally") && !KnownKeys(r, j["dally"], "dally", {"board", "suites"})) return fail();
  if (!r.String(j, "summary", "summary", t.summary, true)) return fail();
  t.description = t.summary;
  if (!r.String(j, "description", "description", t.description, false)) return fail();
  if (!r.String(j, "language", "language", t.language, true)) return fail();
  if (t.language != "cpp" && t.language != "cuda" && t.language != "ir-generator" && t.language != "ir")
    return r.Fail("language", fmt::format("'{}' is not one of cpp, cuda, ir-generator, ir", t.language)), fail();
  t.baseline = t.language == "cuda" ? "baseline.cu" : t.language == "ir" ? "baseline.ir" : "baseline.cpp";
  if (!r.String(j, "baseline", "baseline", t.baseline, false)) return fail();
  if (t.baseline.find("..") != std::string::npos || t.baseline.front() == '/')
    return r.Fail("baseline", "must name a file inside the task folder"), fail();
  if (!fs::is_regular_file(fs::path(t.dir) / t.baseline, ec))
    return r.Fail("baseline", fmt::format("{} does not exist in {}", t.baseline, t.dir)), fail();

  // Objectives.
  if (!j.contains("objectives") || !j["objectives"].is_object()) return r.Fail("objectives", "missing object"), fail();
  const json& o = j["objectives"];
  if (!o.contains("gate") || !o["gate"].is_object()) return r.Fail("objectives.gate", "missing object"), fail();
  const json& g = o["gate"];
  if (!r.String(g, "metric", "objectives.gate.metric", t.gate_metric, true)) return fail();
  if (!r.Number(g, "min", "objectives.gate.min", t.gate_min, true)) return fail();
  if (g.contains("bands")) {
    if (!g["bands"].is_array()) return r.Fail("objectives.gate.bands", "expected an array of numbers"), fail();
    for (const auto& b : g["bands"]) {
      if (!b.is_number()) return r.Fail("objectives.gate.bands", "expected an array of numbers"), fail();
      t.bands.push_back(b.get<double>());
    }
  }
  if (!r.String(o, "minimise", "objectives.minimise", t.minimise, true)) return fail();
  if (!r.Strings(o, "record", "objectives.record", t.record, false)) return fail();

  // Meters.
  const bool learner = t.learner();
  t.meter = learner ? "cachemodel" : "dally";
  if (!r.String(j, "meter", "meter", t.meter, false)) return fail();
  t.meters = learner ? LearnerMeters() : std::vector<std::string>{t.meter};
  if (!r.Strings(j, "meters", "meters", t.meters, false)) return fail();
  if (std::find(t.meters.begin(), t.meters.end(), t.meter) == t.meters.end())
    return r.Fail("meter", fmt::format("'{}' is not among the task's meters", t.meter)), fail();

  // Metrics: declared, or what the objectives and meters imply.
  if (!r.Strings(j, "metrics", "metrics", t.metrics, false)) return fail();
  for (const auto& m : {t.gate_metric, t.minimise}) AddUnique(t.metrics, m);
  for (const auto& m : t.record) AddUnique(t.metrics, m);
  if (learner)
    for (const char* m : {"energy_j", "wall_s", "cpu_s"}) AddUnique(t.metrics, m);
  for (const auto& m : t.metrics)
    if (!IsMetricName(m)) return r.Fail("metrics", fmt::format("'{}' is not letters, digits, '_' and '.'", m)), fail();

  double instances = t.instances;
  if (!r.Number(j, "instances", "instances", instances, false)) return fail();
  if (instances < 1 || instances > 100000 || instances != static_cast<int>(instances))
    return r.Fail("instances", "expected a whole number from 1 to 100000"), fail();
  t.instances = static_cast<int>(instances);
  if (!r.Number(j, "timeout_s", "timeout_s", t.timeout_s, false)) return fail();
  if (!(t.timeout_s > 0) || t.timeout_s > 86400) return r.Fail("timeout_s", "expected seconds in (0, 86400]"), fail();
  if (j.contains("edits")) {
    if (!j["edits"].is_object()) return r.Fail("edits", "expected an object"), fail();
    if (j["edits"].contains("whole_file")) {
      if (!j["edits"]["whole_file"].is_boolean()) return r.Fail("edits.whole_file", "expected true or false"), fail();
      t.whole_file = j["edits"]["whole_file"].get<bool>();
    }
  }
  if (j.contains("params")) {
    if (!j["params"].is_object()) return r.Fail("params", "expected an object of numbers"), fail();
    for (const auto& [k, v] : j["params"].items()) {
      if (!v.is_number()) return r.Fail("params." + k, "expected a number"), fail();
      t.params[k] = v.get<double>();
    }
  }
  if (j.contains("harness")) {
    const json& h = j["harness"];
    if (!h.is_object()) return r.Fail("harness", "expected {\"prepare\": [...], \"score\": [...]}"), fail();
    if (!r.Strings(h, "prepare", "harness.prepare", t.prepare, true)) return fail();
    if (!r.Strings(h, "score", "harness.score", t.score, true)) return fail();
    if (!r.Number(h, "timeout_s", "harness.timeout_s", t.harness_timeout_s, false)) return fail();
    if (!(t.harness_timeout_s > 0) || t.harness_timeout_s > 86400)
      return r.Fail("harness.timeout_s", "expected seconds in (0, 86400]"), fail();
    if (t.prepare.empty()) return r.Fail("harness.prepare", "empty command"), fail();
    if (t.score.empty()) return r.Fail("harness.score", "empty command"), fail();
    if (!learner) return r.Fail("harness", "external harnesses take cpp or cuda candidates"), fail();
  }
  // Dally tasks: an IR candidate names its board; a generator may name its
  // suites' folder (relative to the task's).
  if (j.contains("dally")) {
    const json& d = j["dally"];
    if (!d.is_object()) return r.Fail("dally", "expected {\"board\": ..., \"suites\": ...}"), fail();
    if (learner) return r.Fail("dally", "only ir and ir-generator tasks take a \"dally\" object"), fail();
    if (!r.String(d, "board", "dally.board", t.dally_board, false)) return fail();
    std::string suites;
    if (!r.String(d, "suites", "dally.suites", suites, false)) return fail();
    if (!suites.empty()) t.dally_suites = (fs::path(t.dir) / suites).lexically_normal().string();
  }
  if (t.language == "ir" && !dally::ParseBoard(t.dally_board))
    return r.Fail("dally.board", fmt::format("an ir task names its board: {} (got '{}')", dally::kBoardNames,
                                             t.dally_board)), fail();
  if (t.language == "ir-generator" && t.dally_suites.empty()) t.dally_suites = t.dir + "/suites";
  if (t.dally_suites.size() && !fs::is_directory(t.dally_suites, ec))
    return r.Fail("dally.suites", fmt::format("{} is not a folder", t.dally_suites)), fail();
  return t;
}

}  // namespace ergon::evaluators
