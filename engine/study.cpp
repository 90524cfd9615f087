#include "engine/study.h"

#include <filesystem>
#include <map>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "archive/archive.h"
#include "base/process.h"
#include "engine/strategy.h"
#include "engine/study_report.h"
#include "engine/tasks.h"

namespace ergon::engine {
namespace {

using json = nlohmann::json;

// Runs `argv` with this process's stdio and waits. Ctrl-C reaches the child
// (same process group), which stops cleanly; the study waits for it rather
// than dying first. The child's exit code, or 128 + signal.
int RunChild(const std::vector<std::string>& argv) {
  base::ProcessOptions o;
  o.capture = false;
  o.outlive_interrupts = true;
  return base::RunProcess(argv, o).Code();
}

// The study's newest run for each (arm, seed).
std::map<std::pair<std::string, std::uint64_t>, archive::Run> StudyRuns(const StudyOptions& o) {
  std::map<std::pair<std::string, std::uint64_t>, archive::Run> out;
  if (!std::filesystem::exists(o.db)) return out;
  auto opened = archive::Archive::OpenReadOnly(o.db);
  if (!opened) return out;
  auto runs = (*opened)->Runs();
  if (!runs) return out;
  for (const auto& run : *runs) {
    const json st = json::parse(run.settings, nullptr, false);
    if (run.task != o.task || !st.is_object() || !st.contains("study") || !st["study"].is_object()) continue;
    const json& s = st["study"];
    if (s.value("name", "") != o.name) continue;
    out[{s.value("arm", ""), s.value("seed", std::uint64_t{0})}] = run;
  }
  return out;
}

// A flag the study sets for each run itself.
std::optional<std::string> OwnFlag(const std::vector<std::string>& args, bool arm) {
  for (const auto& a : args)
    for (const char* own : {"--strategy", "--isolated", "--study", "--study-arm", "--seed", "--resume", "--config",
                            "--db", "--task"}) {
      // An arm may choose its strategy and its run file.
      if (arm && (std::string(own) == "--strategy" || std::string(own) == "--config")) continue;
      if (a == own || a.rfind(std::string(own) + "=", 0) == 0) return std::string(own);
    }
  return std::nullopt;
}

}  // namespace

tl::expected<ArmSpec, std::string> ParseArm(const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos) {
    if (!ParseStrategy(spec)) return tl::unexpected(fmt::format("'{}' is not a strategy ({}), nor NAME=FLAGS", spec,
                                                                kStrategyNames));
    return ArmSpec{spec, {"--strategy", spec}};
  }
  ArmSpec arm{spec.substr(0, eq), {}};
  if (arm.name.empty() || arm.name.find_first_of(" \t'\"") != std::string::npos)
    return tl::unexpected(fmt::format("'{}': an arm's name is a word before '='", spec));
  std::string word;
  char quote = 0;
  bool any = false;
  for (char c : spec.substr(eq + 1)) {
    if (quote) {
      if (c == quote) quote = 0;
      else word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      any = true;
    } else if (c == ' ' || c == '\t') {
      if (any || !word.empty()) arm.flags.push_back(word);
      word.clear();
      any = false;
    } else {
      word += c;
    }
  }
  if (quote) return tl::unexpected(fmt::format("'{}': a quote is not closed", spec));
  if (any || !word.empty()) arm.flags.push_back(word);
  if (auto own = OwnFlag(arm.flags, true))
    return tl::unexpected(fmt::format("arm {}: {} is the study's to set for each run; leave it out", arm.name, *own));
  return arm;
}

int RunStudy(const StudyOptions& o) {
  if (o.arms.empty()) {
    fmt::print(stderr, "ergon study: no arms (--strategies or --arm)\n");
    return 2;
  }
  for (std::size_t i = 0; i < o.arms.size(); ++i)
    for (std::size_t j = i + 1; j < o.arms.size(); ++j)
      if (o.arms[i].name == o.arms[j].name) {
        fmt::print(stderr, "ergon study: two arms are named {}\n", o.arms[i].name);
        return 2;
      }
  if (auto own = OwnFlag(o.run_args, false)) {
    fmt::print(stderr, "ergon study: {} is the study's to set for each run; leave it out\n", *own);
    return 2;
  }
  auto lookup = LookupTasks(o.tasks_dirs);
  if (!lookup) {
    fmt::print(stderr, "ergon study: {}\n", lookup.error());
    return 1;
  }
  const evaluators::TaskSpec* spec = lookup->registry.Find(o.task);
  if (!spec) {
    fmt::print(stderr, "ergon study: no task '{}' (`ergon tasks` lists them)\n", o.task);
    return 2;
  }
  std::vector<std::string> common = {"--db", o.db};
  for (const auto& d : o.tasks_dirs) common.insert(common.end(), {"--tasks", d});
  common.insert(common.end(), o.run_args.begin(), o.run_args.end());
  const int total = static_cast<int>(o.arms.size()) * o.seeds;
  int at = 0;
  for (int seed = 1; seed <= o.seeds; ++seed)
    for (const auto& study_arm : o.arms) {
      const std::string& arm = study_arm.name;
      ++at;
      const auto runs = StudyRuns(o);
      const auto found = runs.find({arm, static_cast<std::uint64_t>(seed)});
      std::vector<std::string> argv = {o.ergon, "run"};
      if (found != runs.end() && found->second.status == archive::RunStatus::kDone) {
        fmt::print(stderr, "ergon study {}: {} of {}: {} seed {}: run {} already done\n", o.name, at, total, arm, seed,
                   found->second.id);
        continue;
      }
      if (found != runs.end()) {
        fmt::print(stderr, "ergon study {}: {} of {}: {} seed {}: resuming run {} ({})\n", o.name, at, total, arm,
                   seed, found->second.id, archive::StatusName(found->second.status));
        argv.insert(argv.end(), {"--resume", std::to_string(found->second.id)});
      } else {
        fmt::print(stderr, "ergon study {}: {} of {}: {} seed {}: a new run\n", o.name, at, total, arm, seed);
        argv.insert(argv.end(), {"--task", o.task, "--isolated", "--study", o.name, "--study-arm", arm, "--seed",
                                 std::to_string(seed)});
      }
      argv.insert(argv.end(), common.begin(), common.end());
      argv.insert(argv.end(), study_arm.flags.begin(), study_arm.flags.end());
      const int rc = RunChild(argv);
      const auto after = StudyRuns(o);
      const auto run = after.find({arm, static_cast<std::uint64_t>(seed)});
      if (rc != 0 || run == after.end() || run->second.status != archive::RunStatus::kDone) {
        fmt::print(stderr, "ergon study {}: {} seed {} did not finish ({}{}); run the same command again to resume\n",
                   o.name, arm, seed, rc != 0 ? fmt::format("exit code {}", rc) : "",
                   run == after.end() ? "" : (rc != 0 ? ", " : "") + std::string("run ") +
                                                 std::to_string(run->second.id) + " " + archive::StatusName(run->second.status));
        return rc == 2 ? 2 : 1;
      }
    }
  auto opened = archive::Archive::OpenReadOnly(o.db);
  if (!opened) {
    fmt::print(stderr, "ergon study: {}\n", opened.error());
    return 1;
  }
  std::vector<std::string> names;
  for (const auto& a : o.arms) names.push_back(a.name);
  auto report = ReadStudy(**opened, o.name, o.task, spec->minimise, names, o.target);
  if (!report) {
    fmt::print(stderr, "ergon study: {}\n", report.error());
    return 1;
  }
  if (o.json) fmt::print("{}\n", StudyJson(*report));
  else fmt::print("{}", StudyText(*report));
  return 0;
}

}  // namespace ergon::engine
