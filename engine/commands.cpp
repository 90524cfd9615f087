// `ergon tasks`, `score`, `optimize-ir` and `eval`.
#include <cstdio>
#include <string>

#include <fmt/core.h>

#include "archive/archive.h"
#include "engine/commands.h"
#include "engine/evaluate.h"
#include "engine/home.h"
#include "evaluators/dally/score_file.h"
#include "evaluators/task_catalog.h"
#include "genome/genome.h"

namespace ergon::engine {
namespace {

// Records one manual evaluation: a run per call, the candidate once per
// source (by content hash), the evaluation keyed as the archive keys them.
tl::expected<std::int64_t, std::string> RecordManual(const std::string& db, const std::string& task,
                                                     const std::string& path, const std::string& source,
                                                     const Scored& scored) {
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
  run.status = "done";
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
    at.objectives = scored.objectives;
    at.cell = scored.cell;
  }
  at.evaluations.push_back(scored.evaluation);
  at.events.push_back({*run_id, "manual_eval", std::nullopt, path});
  auto id = (*a)->Record(at);
  if (!id) return tl::unexpected(id.error());
  (void)(*a)->EndRun(*run_id, "done");
  return *id;
}

}  // namespace

int CmdTasks(bool json) {
  auto home = FindHome();
  if (!home) {
    fmt::print(stderr, "ergon: {}\n", home.error());
    return 1;
  }
  auto tasks = evaluators::ListTasks(*home + "/evaluators");
  if (!tasks) {
    fmt::print(stderr, "ergon: {}\n", tasks.error());
    return 1;
  }
  if (json) {
    std::string out = "[";
    for (std::size_t i = 0; i < tasks->size(); ++i) {
      const auto& t = (*tasks)[i];
      // Summaries are ours (task.json), but escape quotes and backslashes anyway.
      std::string s;
      for (char c : t.summary) {
        if (c == '"' || c == '\\') s += '\\';
        s += c;
      }
      out += fmt::format("{}{{\"name\":\"{}\",\"summary\":\"{}\",\"language\":\"{}\",\"evaluator\":{}}}",
                         i ? "," : "", t.name, s, t.language, t.has_evaluator ? "true" : "false");
    }
    fmt::print("{}]\n", out);
    return 0;
  }
  fmt::print("tasks in {}/evaluators:\n", *home);
  for (const auto& t : *tasks)
    fmt::print("  {:<16} {}{}\n", t.name, t.summary, t.has_evaluator ? "" : "  [evaluator not built yet]");
  return 0;
}

int CmdScore(const evaluators::dally::ScoreRequest& request, bool json) {
  auto home = FindHome();
  evaluators::dally::ScoreRequest q = request;
  if (home) q.suites_dir = *home + "/evaluators/dally_parity/suites";
  if (q.suite == "dev" && !home) {
    fmt::print(stderr, "ergon score: {}\n", home.error());
    return 1;
  }
  auto r = evaluators::dally::ScoreFile(q);
  if (json) fmt::print("{}\n", evaluators::dally::ReportJson(r));
  else if (r.ran) fmt::print("{}\n", evaluators::dally::ReportText(r));
  else fmt::print(stderr, "ergon score: {}: {}\n", q.path, r.status);
  return r.ran ? 0 : 1;
}

int CmdOptimizeIr(const evaluators::dally::OptimizeRequest& request, bool json) {
  auto home = FindHome();
  if (!home) {
    fmt::print(stderr, "ergon optimize-ir: {}\n", home.error());
    return 1;
  }
  evaluators::dally::OptimizeRequest q = request;
  q.suites_dir = *home + "/evaluators/dally_parity/suites";
  auto r = evaluators::dally::OptimizeFile(q);
  if (json) {
    fmt::print("{{\"status\":\"{}\",\"cost_before\":{},\"cost_after\":{},\"lines_before\":{},\"lines_after\":{},"
               "\"dead_ops\":{},\"verified_instances\":{}}}\n",
               r.ok ? "ok" : "error", r.cost_before, r.cost_after, r.lines_before, r.lines_after, r.dead_ops,
               r.verified_instances);
  }
  if (!r.ok) {
    fmt::print(stderr, "ergon optimize-ir: {}\n", r.status);
    return 1;
  }
  if (!json)
    fmt::print("cost {} -> {} ({:.3f}x lower), lines {} -> {} ({} dead ops removed); outputs identical on {} "
               "instances (official + fresh); wrote {} in {:.2f} s\n",
               r.cost_before, r.cost_after, static_cast<double>(r.cost_before) / static_cast<double>(r.cost_after),
               r.lines_before, r.lines_after, r.dead_ops, r.verified_instances, q.out_path, r.seconds);
  return 0;
}

int CmdEval(const EvalArgs& a, bool json) {
  auto home = FindHome();
  if (!home) {
    fmt::print(stderr, "ergon eval: {}\n", home.error());
    return 1;
  }
  auto tasks = evaluators::ListTasks(*home + "/evaluators");
  bool known = false, built = false;
  if (tasks)
    for (const auto& t : *tasks)
      if (t.name == a.task) { known = true; built = t.has_evaluator; }
  if (!known) {
    fmt::print(stderr, "ergon eval: unknown task '{}'; `ergon tasks` lists them\n", a.task);
    return 2;
  }
  if (!built) {
    fmt::print(stderr, "ergon eval: the {} harness is not in this build\n", a.task);
    return 1;
  }
  const std::string path = a.file.empty() ? *home + "/evaluators/" + a.task + "/baseline.cpp" : a.file;
  auto text = ReadFile(path);
  if (!text) {
    fmt::print(stderr, "ergon eval: cannot read {}\n", path);
    return 1;
  }
  const std::string& source = *text;
  EvalRequest q;
  q.task = a.task;
  q.source = source;
  q.cuda = path.size() > 3 && path.substr(path.size() - 3) == ".cu";
  q.meter = a.meter;
  q.suite = a.suite;
  q.instances = a.instances;
  q.timeout_s = a.timeout_s;
  q.home = *home;
  if (!json && a.task == "sparse_parity")
    fmt::print(stderr, "ergon eval: {} on {} instance(s) of the {} suite, meter {}...\n", path,
               a.instances ? a.instances : 3, a.suite, a.meter.empty() ? "cachemodel" : a.meter);
  EvalOutcome o = Evaluate(q);
  if (o.usage_error) {
    fmt::print(stderr, "ergon eval: {}\n", o.error);
    return 2;
  }
  if (json) {
    fmt::print("{}\n", o.json);
  } else if (o.ran) {
    fmt::print("{}: {}\n", path, o.text);
  } else {
    fmt::print(stderr, "ergon eval: {}: {} (stage: {})\n", path, o.error, o.stage);
    if (!o.feedback.empty()) fmt::print(stderr, "{}\n", o.feedback.substr(0, 2000));
  }
  if (!a.db.empty()) {
    auto id = RecordManual(a.db, a.task, path, source, o.scored);
    if (!id) {
      fmt::print(stderr, "ergon eval: could not record in {}: {}\n", a.db, id.error());
      return 1;
    }
    if (!json) fmt::print(stderr, "ergon eval: recorded as candidate {} in {}\n", *id, a.db);
  }
  return o.ran ? 0 : 1;
}

}  // namespace ergon::engine
