// `ergon tasks` and `eval`.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include <fmt/core.h>

#include "base/file.h"
#include "archive/archive.h"
#include "engine/commands.h"
#include "engine/evaluate.h"
#include "engine/home.h"
#include "engine/tasks.h"
#include "genome/genome.h"

namespace ergon::engine {
namespace {

// Records one manual evaluation: a run per call, the candidate once per
// source (by content hash), the evaluation keyed as the archive keys them.
tl::expected<std::int64_t, std::string> RecordManual(const std::string& db, const std::string& task,
                                                     const std::string& path, const std::string& source,
                                                     const evaluators::Measurement& m) {
  auto a = archive::Archive::Open(db);
  if (!a) return tl::unexpected(a.error());
  archive::Run run;
  run.task = task;
  run.agent = "manual";
  run.model = "-";
  std::string escaped;
  for (char ch : path) {
    if (ch == '"' || ch == '\\') escaped += '\\';
    if (static_cast<unsigned char>(ch) >= 0x20) escaped += ch;
  }
  run.settings = fmt::format("{{\"command\":\"ergon eval\",\"file\":\"{}\"}}", escaped);
  run.status = archive::RunStatus::kDone;
  auto run_id = (*a)->BeginRun(run);
  if (!run_id) return tl::unexpected(run_id.error());
  const std::string hash = genome::ContentHash(source);
  auto existing = (*a)->FindByHash(task, hash);
  if (!existing) return tl::unexpected(existing.error());
  archive::Attempt at;
  if (*existing) {
    at.existing_candidate = **existing;
  } else {
    archive::Candidate c;
    c.run_id = *run_id;
    c.task = task;
    c.source = source;
    c.hash = hash;
    c.intent = "ergon eval " + path;
    at.candidate = c;
    at.objectives = m.objectives;
    at.cell = m.cell;
  }
  at.evaluations.push_back(ToEvaluation(m));
  at.events.push_back({*run_id, "manual_eval", std::nullopt, path});
  auto id = (*a)->Record(at);
  if (!id) return tl::unexpected(id.error());
  if (auto ended = (*a)->EndRun(*run_id, archive::RunStatus::kDone); !ended) return tl::unexpected(ended.error());
  return *id;
}

}  // namespace

int CmdTasks(const std::vector<std::string>& tasks_dirs, bool json) {
  auto tasks = LookupTasks(tasks_dirs);
  if (!tasks) {
    fmt::print(stderr, "ergon: {}\n", tasks.error());
    return 1;
  }
  const auto& reg = tasks->registry;
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& t : reg.specs())
      arr.push_back({{"name", t.name}, {"summary", t.summary}, {"language", t.language}, {"dir", t.dir},
                     {"external", t.external()}, {"meter", t.meter}, {"metrics", t.metrics},
                     {"gate", {{"metric", t.gate_metric}, {"min", t.gate_min}}}, {"minimise", t.minimise}});
    fmt::print("{}\n", arr.dump());
  } else {
    for (const auto& t : reg.specs())
      fmt::print("  {:<16} {}{}\n", t.name, t.summary, t.external() ? fmt::format("  [external: {}]", t.dir) : "");
  }
  for (const auto& p : reg.problems()) fmt::print(stderr, "ergon tasks: {}\n", p);
  return reg.problems().empty() ? 0 : 1;
}

int CmdEval(const EvalArgs& a, bool json) {
  auto tasks = LookupTasks(a.tasks_dirs);
  if (!tasks) {
    fmt::print(stderr, "ergon eval: {}\n", tasks.error());
    return 1;
  }
  auto task = tasks->registry.Open(a.task);
  if (!task) {
    fmt::print(stderr, "ergon eval: {}\n", task.error());
    return 2;
  }
  const evaluators::TaskSpec& spec = (*task)->spec();
  const std::string path = a.file.empty() ? spec.dir + "/" + spec.baseline : a.file;
  auto text = base::ReadFile(path);
  if (!text) {
    fmt::print(stderr, "ergon eval: cannot read {}\n", path);
    return 1;
  }
  const std::string& source = *text;
  evaluators::TaskEvalRequest q;
  q.source = source;
  const bool cu = path.size() > 3 && path.substr(path.size() - 3) == ".cu";
  q.language = cu ? "cuda" : spec.LanguageOf(source);
  q.meter = a.meter;
  q.suite = a.suite;
  q.instances = a.instances;
  q.timeout_s = a.timeout_s;
  if (!json && spec.learner())
    fmt::print(stderr, "ergon eval: {} on {} instance(s) of the {} suite, meter {}...\n", path,
               a.instances ? a.instances : static_cast<std::size_t>(spec.instances), a.suite,
               a.meter.empty() ? spec.meter : a.meter);
  EvalOutcome o = Evaluate(**task, q, nullptr);
  if (o.usage_error) {
    fmt::print(stderr, "ergon eval: {}\n", o.m.error);
    return 2;
  }
  if (json) {
    fmt::print("{}\n", o.m.json);
  } else if (o.m.ran) {
    fmt::print("{}: {}\n", path, o.m.text);
  } else {
    fmt::print(stderr, "ergon eval: {}: {}{} (stage: {})\n", path, o.m.harness_error ? "harness error: " : "",
               o.m.error, o.m.stage);
    if (!o.m.feedback.empty()) fmt::print(stderr, "{}\n", o.m.feedback.substr(0, 2000));
  }
  // A harness error is not the candidate's: it is never recorded against it.
  if (!a.db.empty() && !o.m.harness_error) {
    auto id = RecordManual(a.db, a.task, path, source, o.m);
    if (!id) {
      fmt::print(stderr, "ergon eval: could not record in {}: {}\n", a.db, id.error());
      return 1;
    }
    if (!json) fmt::print(stderr, "ergon eval: recorded as candidate {} in {}\n", *id, a.db);
  }
  // 3: it ran and was scored, and missed the task's gate (a script can tell
  // "worse than required" from "broken").
  if (o.m.ran && !o.m.gate_passed && !json) fmt::print(stderr, "ergon eval: {}: below the task's gate\n", path);
  return !o.m.ran ? 1 : o.m.gate_passed ? 0 : 3;
}

}  // namespace ergon::engine
