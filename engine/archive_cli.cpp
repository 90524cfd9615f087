// `ergon archive ...` and `ergon replay`: reading the archive for people and
// scripts, exporting a candidate, and re-evaluating one.
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "archive/archive.h"
#include "evaluators/meter.h"
#include "engine/archive_json.h"
#include "engine/run_process.h"
#include "engine/task_origin.h"
#include "evaluators/hot_spots.h"
#include "engine/commands.h"
#include "engine/evaluate.h"
#include "engine/home.h"
#include "engine/tasks.h"
#include "genome/diff.h"
#include "sandbox/sandbox.h"

namespace ergon::engine {
namespace {
namespace fs = std::filesystem;
using archive::Row;
using json = nlohmann::json;

std::string Fmt(std::optional<double> v) { return v ? FormatMetric(*v) : "-"; }

std::string Short(std::string s, std::size_t n) {
  for (auto& ch : s)
    if (ch == '\n' || ch == '\t') ch = ' ';
  return s.size() > n ? s.substr(0, n - 3) + "..." : s;
}

void PrintTable(const std::vector<Row>& rows, Specs& specs) {
  if (rows.empty()) {
    fmt::print("(no candidates)\n");
    return;
  }
  fmt::print("{:>6} {:>6} {:<18} {:<10} {:<5} {:<40}  {}\n", "id", "parent", "task", "status", "gate", "metrics",
             "intent");
  for (const auto& r : rows) {
    const auto& c = r.candidate;
    std::string metrics = "-";
    if (r.best) {
      const auto& spec = specs.For(c.task);
      metrics.clear();
      std::vector<std::string> names = {spec.gate_metric, MainMetric(spec, *r.best)};
      for (const auto& n : names)
        if (auto v = r.best->metrics.Get(n)) metrics += fmt::format("{}{} {}", metrics.empty() ? "" : "  ", n, Fmt(v));
      if (metrics.empty()) metrics = "-";
    }
    fmt::print("{:>6} {:>6} {:<18} {:<10} {:<5} {:<40}  {}\n", c.id, c.parent ? std::to_string(*c.parent) : "-",
               Short(c.task, 18), archive::StatusName(c.status), c.gate_passed ? "yes" : "no", metrics, Short(c.intent, 40));
  }
}

int Emit(archive::Archive& a, const Row& row, const std::string& dir, Specs& specs) {
  const auto& c = row.candidate;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    fmt::print(stderr, "ergon: {} exists and is not empty; choose a new folder\n", dir);
    return 1;
  }
  const evaluators::TaskSpec& spec = specs.For(c.task);
  auto task = specs.registry().Open(c.task);
  if (!task) {
    fmt::print(stderr, "ergon: {}\n", task.error());
    return 1;
  }
  fs::create_directories(dir, ec);
  if (ec) {
    fmt::print(stderr, "ergon: cannot create {}: {}\n", dir, ec.message());
    return 1;
  }
  const auto files = (*task)->ExportFiles(c.source, spec.LanguageOf(c.source));
  std::string names;
  for (const auto& [name, text] : files) {
    std::ofstream(fs::path(dir) / name, std::ios::binary) << text;
    if (fs::path(name).extension() == ".sh")
      fs::permissions(fs::path(dir) / name, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                                fs::perms::others_read | fs::perms::others_exec);
    names += name + ", ";
  }
  fs::copy_file(spec.file, fs::path(dir) / "task.json", fs::copy_options::overwrite_existing, ec);
  std::string readme = fmt::format("# ergon candidate {} ({})\n\n{}\n\nWhat it must do: {}\n\n", c.id, c.task,
                                   spec.summary, spec.description);
  readme += "## Metrics (as archived)\n\n";
  if (auto evals = a.Evaluations(c.id))
    for (const auto& e : *evals) {
      json j;
      PutMetrics(j, e);
      j.erase("metrics");
      readme += fmt::format("- {}\n", j.dump());
    }
  readme += "\n## Lineage (newest first)\n\n";
  if (auto lin = a.Lineage(c.id))
    for (const auto& r : *lin) {
      const std::string name = r.best ? MainMetric(spec, *r.best) : "-";
      readme += fmt::format("- {} {}: {}  {}\n", r.candidate.id, name, r.best ? Fmt(r.best->metrics.Get(name)) : "-",
                            Short(r.candidate.intent, 80));
    }
  readme += fmt::format("\nSource hash (normalised SHA-256): {}\n", c.hash);
  std::ofstream(fs::path(dir) / "README.md") << readme;
  // The task's submission kit, computed now (dally_parity: the IR and a
  // report in the group's form).
  if ((*task)->HasSubmissionKit()) {
    auto sb = sandbox::Sandbox::Create();
    if (!sb) {
      fmt::print(stderr, "ergon: the submission kit needs a sandbox: {}\n", sb.error());
      return 1;
    }
    evaluators::Task::SubmissionAbout about;
    about.title = fmt::format("ergon candidate {}", c.id);
    about.method = c.intent;
    for (const auto& [name, text] : files)
      if (text == c.source) about.generator_file = name;
    if (auto lin = a.Lineage(c.id))
      for (const auto& r : *lin) {
        const std::string name = r.best ? MainMetric(spec, *r.best) : "-";
        about.lineage.push_back(fmt::format("candidate {} ({} {}): {}", r.candidate.id, name,
                                            r.best ? Fmt(r.best->metrics.Get(name)) : "-",
                                            r.candidate.intent.empty() ? "-" : Short(r.candidate.intent, 200)));
      }
    const std::time_t now = std::time(nullptr);
    char day[16];
    std::strftime(day, sizeof day, "%Y-%m-%d", std::gmtime(&now));
    about.date = day;
    auto kit = (*task)->SubmissionFiles(*sb, c.source, about);
    if (!kit) {
      fmt::print(stderr, "ergon: candidate {} cannot be exported as a submission: {}\n", c.id, kit.error());
      return 1;
    }
    for (const auto& [name, text] : *kit) {
      std::ofstream(fs::path(dir) / name, std::ios::binary) << text;
      names += name + ", ";
    }
  }
  fmt::print("wrote {}/{{{}task.json, README.md}}\n", dir, names);
  return 0;
}

int PrintAttempts(const std::vector<archive::AttemptRow>& rows, bool as_json) {
  if (as_json) {
    json arr = json::array();
    for (const auto& t : rows) arr.push_back(AttemptJson(t));
    fmt::print("{}\n", arr.dump());
    return 0;
  }
  if (rows.empty()) {
    fmt::print("(no failed attempts)\n");
    return 0;
  }
  fmt::print("{:>7} {:>4} {:>6} {:<22} {}\n", "attempt", "run", "parent", "stage", "error");
  for (const auto& t : rows)
    fmt::print("{:>7} {:>4} {:>6} {:<22} {}\n", t.id, t.run_id, t.parent ? std::to_string(*t.parent) : "-",
               Short(t.stage, 22), Short(t.error, 90));
  return 0;
}

// One `ergon archive` subcommand's view: the archive open read-only, the
// arguments, the tasks' specs, and how it says a failure.
struct View {
  archive::Archive& ar;
  const ArchiveArgs& a;
  Specs& specs;
  std::string sub;

  int Fail(const std::string& e) const {
    fmt::print(stderr, "ergon archive {}: {}\n", sub, e);
    return 1;
  }
  int PrintRows(const tl::expected<std::vector<Row>, std::string>& rows) const {
    if (!rows) return Fail(rows.error());
    if (a.json) {
      json arr = json::array();
      for (const auto& r : *rows) arr.push_back(RowJson(r));
      fmt::print("{}\n", arr.dump());
    } else {
      PrintTable(*rows, specs);
    }
    return 0;
  }
  // The candidate `id` names, or a failure said.
  std::optional<Row> Candidate(std::int64_t id) const {
    auto row = ar.Get(id);
    if (!row) Fail(row.error());
    else if (!*row) Fail(fmt::format("no candidate {} in {}", id, a.db));
    else return **row;
    return std::nullopt;
  }
};

int List(View& v) {
  const ArchiveArgs& a = v.a;
  const auto status = archive::ParseCandidateStatus(a.status);  // checked by the CLI
  int rc = v.PrintRows(v.ar.List({a.run, a.task, status, a.limit}));
  if (rc == 0 && !a.json && status == archive::CandidateStatus::kFailed)
    if (auto at = v.ar.Attempts(a.run.value_or(0), 0); at && !at->empty())
      fmt::print("({} failed attempt(s) made no candidate: `ergon archive attempts` lists them)\n", at->size());
  return rc;
}

int Attempts(View& v) {
  auto rows = v.ar.Attempts(v.a.run.value_or(0), v.a.limit);
  if (!rows) return v.Fail(rows.error());
  return PrintAttempts(*rows, v.a.json);
}

int Top(View& v) {
  const ArchiveArgs& a = v.a;
  // Any metric the task declares or the archive holds for it; fitness always.
  std::set<std::string> valid = {"fitness"};
  bool higher = false;
  std::vector<std::string> tasks_in;
  if (!a.task.empty()) tasks_in.push_back(a.task);
  else if (auto runs = v.ar.Runs())
    for (const auto& r : *runs) tasks_in.push_back(r.task);
  for (const auto& t : tasks_in) {
    const auto& spec = v.specs.For(t);
    valid.insert(spec.metrics.begin(), spec.metrics.end());
    if (spec.HigherIsBetter(a.by)) higher = true;
  }
  if (auto stored = v.ar.MetricNames(a.task)) valid.insert(stored->begin(), stored->end());
  if (!valid.count(a.by)) {
    std::string list;
    for (const auto& m : valid) list += (list.empty() ? "" : ", ") + m;
    fmt::print(stderr, "ergon archive top: cannot sort by '{}'{}; valid: {}\n", a.by,
               a.task.empty() ? "" : " for task " + a.task, list);
    return 2;
  }
  return v.PrintRows(v.ar.Top(a.task, a.by, a.limit, higher));
}

int Search(View& v) {
  auto rows = v.ar.Search(v.a.text, v.a.limit);
  if (!rows) return v.Fail(rows.error());
  auto attempts = v.ar.SearchAttempts(v.a.text, v.a.limit);
  if (!attempts) return v.Fail(attempts.error());
  if (v.a.json) {
    fmt::print("{}\n", SearchJson(*rows, *attempts).dump());
    return 0;
  }
  PrintTable(*rows, v.specs);
  if (!attempts->empty()) {
    fmt::print("\nfailed attempts:\n");
    PrintAttempts(*attempts, false);
  }
  return 0;
}

int Pareto(View& v) { return v.PrintRows(v.ar.Pareto(v.a.task)); }

int Export(View& v) {
  auto row = v.Candidate(v.a.id);
  return row ? Emit(v.ar, *row, v.a.out_dir, v.specs) : 1;
}

int Lineage(View& v) {
  auto row = v.Candidate(v.a.id);
  if (!row) return 1;
  auto lin = v.ar.Lineage(v.a.id);
  if (!lin) return v.Fail(lin.error());
  const evaluators::TaskSpec& spec = v.specs.For(row->candidate.task);
  if (v.a.json) {
    fmt::print("{}\n", LineageJson(*lin, spec).dump());
    return 0;
  }
  for (std::size_t i = 0; i < lin->size(); ++i) {
    const Row& r = (*lin)[i];
    std::string metric = "-", change;
    if (r.best) {
      auto name = MainMetric(spec, *r.best);
      metric = name + " " + Fmt(r.best->metrics.Get(name));
      if (i + 1 < lin->size() && (*lin)[i + 1].best) {
        auto x = r.best->metrics.Get(name), y = (*lin)[i + 1].best->metrics.Get(name);
        if (x && y && *y != 0) change = fmt::format("  ({:+.1f}% vs parent)", 100 * (*x - *y) / std::fabs(*y));
      }
    }
    fmt::print("{}{} {}{}  {}\n", std::string(2 * i, ' '), r.candidate.id, metric, change, Short(r.candidate.intent, 50));
  }
  return 0;
}

// A generated source runs to megabytes: its head (200 lines, 64 KB), unless
// --full; and whether it was cut.
std::pair<std::string, bool> ShownSource(const std::string& source, bool full) {
  std::size_t lines = 0, at = 0;
  while (!full && at < source.size() && lines < 200) {
    at = source.find('\n', at);
    if (at == std::string::npos) break;
    ++at;
    ++lines;
  }
  const bool cut = !full && (lines >= 200 || source.size() > 64 * 1024) && at < source.size();
  return {cut ? source.substr(0, std::min<std::size_t>(at, 64 * 1024)) : source, cut};
}

int Show(View& v) {
  auto row = v.Candidate(v.a.id);
  if (!row) return 1;
  auto lin = v.ar.Lineage(v.a.id);
  if (!lin) return v.Fail(lin.error());
  auto evals = v.ar.Evaluations(v.a.id);
  if (!evals) return v.Fail(evals.error());
  std::vector<std::string> measured;
  if (auto ev = v.ar.CandidateEvents(v.a.id, "measured"))
    for (const auto& e : *ev) measured.push_back(e.message);
  if (v.a.json) {
    fmt::print("{}\n", ShowJson(*row, *evals, *lin, measured).dump());
    return 0;
  }
  const auto& c = row->candidate;
  fmt::print("candidate {}  task {}  status {}  gate {}  island {}  parent {}  children {}\n", c.id, c.task,
             archive::StatusName(c.status), c.gate_passed ? "passed" : "not passed", c.island, c.parent ? std::to_string(*c.parent) : "-", c.children);
  fmt::print("idea: {}\nintent: {}\n", c.idea.empty() ? "-" : c.idea, c.intent.empty() ? "-" : c.intent);
  if (c.reintroduced > 0)
    if (auto ev = v.ar.CandidateEvents(c.id, "reintroduced"); ev && !ev->empty())
      fmt::print("re-introduced: {}\n", ev->back().message);
  fmt::print("\nevaluations:\n");
  // One line each for people (4 significant digits); --json has every digit.
  for (const auto& e : *evals) {
    std::string metrics;
    for (const auto& [name, value] : e.metrics.values)
      metrics += fmt::format("{}{}={}", metrics.empty() ? "" : ", ", name, FormatMetric(value));
    fmt::print("  {} suite, meter {}, {}: {}  ({}{})\n", e.suite, e.meter, e.evaluator_version,
               metrics.empty() ? "no metrics" : metrics, e.status == "ok" ? "ok" : Short(e.status, 200),
               e.status == "ok" ? (e.gate_passed ? ", gate passed" : ", gate NOT passed") : "");
  }
  for (const auto& m : measured) fmt::print("measured on: {}\n", m);
  // The best evaluation's profile (the cachemodel's), with its lines quoted.
  if (const auto& b = row->best)
    if (auto hot = evaluators::HotSpotsText(b->metrics.components, c.source, 8); !hot.empty()) fmt::print("\n{}", hot);
  fmt::print("\nlineage: ");
  for (std::size_t i = 0; i < lin->size(); ++i) fmt::print("{}{}", i ? " <- " : "", (*lin)[i].candidate.id);
  const auto [shown, cut] = ShownSource(c.source, v.a.full);
  fmt::print("\n\nsource ({} bytes, hash {}):\n{}\n", c.source.size(), c.hash.substr(0, 16), shown);
  if (cut)
    fmt::print("[... {} more bytes: `ergon archive show {} --full` prints all, `ergon archive export {} -o DIR` "
               "writes it]\n", c.source.size() - shown.size(), c.id, c.id);
  for (const auto& e : *evals)
    if (!e.feedback.empty()) fmt::print("feedback ({} / {}):\n{}\n", e.meter, e.suite, e.feedback);
  return 0;
}

int Diff(View& v) {
  const ArchiveArgs& a = v.a;
  auto x = v.ar.Get(a.id), y = v.ar.Get(a.other);
  if (!x || !y) return v.Fail(!x ? x.error() : y.error());
  if (!*x || !*y) return v.Fail(fmt::format("no candidate {}", !*x ? a.id : a.other));
  genome::DiffOptions o;
  o.from_name = fmt::format("candidate {}", a.id);
  o.to_name = fmt::format("candidate {}", a.other);
  std::string d = genome::UnifiedDiff((*x)->candidate.source, (*y)->candidate.source, o);
  if (a.json) fmt::print("{}\n", json{{"a", a.id}, {"b", a.other}, {"diff", d}}.dump());
  else fmt::print("{}", d.empty() ? "(identical sources)\n" : d);
  return 0;
}

int Runs(View& v) {
  auto runs = v.ar.Runs();
  if (!runs) return v.Fail(runs.error());
  // A run whose process is gone is shown as what it is (the next `ergon
  // run` on this archive writes it so).
  for (auto& r : *runs)
    if (auto why = LostReason(r); !why.empty()) {
      r.status = archive::RunStatus::kStopped;
      r.stop_reason = why;
    }
  auto outcomes = v.ar.Outcomes(std::nullopt);
  if (!outcomes) return v.Fail(outcomes.error());
  if (v.a.json) {
    json arr = json::array();
    for (const auto& r : *runs) {
      json j = RunJson(r);
      const archive::OutcomeCounts& n = (*outcomes)[r.id];
      j["candidates"] = n.candidates();
      j["outcomes"] = OutcomesJson(n);
      arr.push_back(j);
    }
    fmt::print("{}\n", arr.dump());
    return 0;
  }
  // Each run's outcomes in the words of its own summary line (outcome.h).
  fmt::print("{:>4} {:<22} {:<10} {:<20} {:<12} {:<8} {}\n", "id", "task", "agent", "model", "strategy", "status",
             "why");
  for (const auto& r : *runs) {
    const json j = RunJson(r);
    std::string strategy = j["strategy"].get<std::string>() + (j["isolated"].get<bool>() ? "*" : "");
    fmt::print("{:>4} {:<22} {:<10} {:<20} {:<12} {:<8} {}\n", r.id, r.task, r.agent, r.model, strategy, archive::StatusName(r.status),
               r.stop_reason);
    fmt::print("     {}\n", (*outcomes)[r.id].Line());
  }
  return 0;
}

int Ledger(View& v) {
  auto led = v.ar.Ledger();
  if (!led) return v.Fail(led.error());
  if (v.a.json) {
    json arr = json::array();
    for (const auto& l : *led) arr.push_back(LedgerSummaryJson(l));
    fmt::print("{}\n", arr.dump());
    return 0;
  }
  fmt::print("{:>4} {:<24} {:>6} {:>10} {:>10} {:>10} {:>9} {:>5}\n", "run", "model", "calls", "tokens_in",
             "tokens_out", "cost_usd", "failures", "wins");
  for (const auto& l : *led)
    fmt::print("{:>4} {:<24} {:>6} {:>10} {:>10} {:>10.4f} {:>9} {:>5}\n", l.run_id, l.model, l.calls, l.tokens_in,
               l.tokens_out, l.cost_usd, l.failures, l.wins);
  return 0;
}

}  // namespace

int CmdArchive(const std::string& sub, const ArchiveArgs& a) {
  static const std::map<std::string, int (*)(View&)> kViews = {
      {"list", List},     {"attempts", Attempts}, {"top", Top},   {"search", Search},
      {"pareto", Pareto}, {"export", Export},     {"show", Show}, {"lineage", Lineage},
      {"diff", Diff},     {"runs", Runs},         {"ledger", Ledger}};
  const auto view = kViews.find(sub);
  if (view == kViews.end()) {
    fmt::print(stderr, "ergon archive: unknown subcommand '{}'\n", sub);
    return 2;
  }
  auto opened = archive::Archive::OpenReadOnly(a.db);
  if (!opened) {
    fmt::print(stderr, "ergon archive: {}\n", opened.error());
    return 1;
  }
  Specs specs(a.tasks_dirs, opened->get());
  View v{**opened, a, specs, sub};
  return view->second(v);
}

int CmdReplay(const ReplayArgs& a) {
  if (!fs::exists(a.db)) {
    fmt::print(stderr, "ergon replay: {}: no such archive (--db chooses another)\n", a.db);
    return 2;
  }
  auto opened = archive::Archive::Open(a.db);
  if (!opened) {
    fmt::print(stderr, "ergon replay: {}\n", opened.error());
    return 1;
  }
  archive::Archive& ar = **opened;
  auto row = ar.Get(a.id);
  if (!row || !*row) {
    fmt::print(stderr, "ergon replay: {}\n", row ? fmt::format("no candidate {} in {}", a.id, a.db) : row.error());
    return 1;
  }
  const auto& c = (*row)->candidate;
  if (!(*row)->best) {
    fmt::print(stderr, "ergon replay: candidate {} has no stored evaluation to compare with\n", a.id);
    return 1;
  }
  const archive::Evaluation stored = *(*row)->best;
  Specs specs(a.tasks_dirs, &ar);
  // The task as the run knew it: say so when its folder moved or changed.
  if (c.run_id)
    if (auto run = ar.GetRun(c.run_id); run && *run)
      if (auto change = TaskOriginChange(**run, specs.registry().Find(c.task)); !change.empty())
        fmt::print(stderr, "ergon replay: note: {}\n", change);
  auto task = specs.registry().Open(c.task);
  if (!task) {
    fmt::print(stderr, "ergon replay: {}\n", task.error());
    return 1;
  }
  const evaluators::TaskSpec& spec = (*task)->spec();
  evaluators::TaskEvalRequest q;
  q.source = c.source;
  q.language = spec.LanguageOf(c.source);
  q.meter = a.meter.empty() ? stored.meter : a.meter;
  q.suite = stored.suite;
  q.timeout_s = a.timeout_s;
  try {
    auto comp = json::parse(stored.metrics.components.empty() ? "{}" : stored.metrics.components);
    // Learners' evaluations say how many instances they ran; dally's count
    // its generated suite only off the dev suite.
    if (comp.contains("instances") && (stored.suite != "dev" || spec.language != "ir-generator"))
      q.instances = comp["instances"].get<std::size_t>();
  } catch (const json::exception&) {
  }
  if (!a.json) fmt::print(stderr, "ergon replay: re-evaluating candidate {} ({}, meter {}, suite {})...\n", c.id, c.task,
                          q.meter, q.suite);
  EvalOutcome o = Evaluate(**task, q, nullptr);
  if (o.usage_error) {
    fmt::print(stderr, "ergon replay: {}\n", o.m.error);
    return 2;
  }
  if (!o.m.ran) {
    fmt::print(stderr, "ergon replay: the candidate did not run: {}{} (stage {})\n",
               o.m.harness_error ? "harness error: " : "", o.m.error, o.m.stage);
    return 1;
  }
  const archive::Evaluation now = ToEvaluation(o.m);
  std::vector<std::string> reasons;
  if (now.evaluator_version != stored.evaluator_version)
    reasons.push_back(fmt::format("evaluator version changed ({} -> {}){}", stored.evaluator_version, now.evaluator_version,
                                  spec.external() ? ": the task's harness files changed" : ""));
  if (now.meter != stored.meter) reasons.push_back(fmt::format("meter differs ({} -> {})", stored.meter, now.meter));
  if (now.device != stored.device) reasons.push_back(fmt::format("device differs ({} -> {})", stored.device, now.device));
  if (stored.suite == "fresh") reasons.push_back("suite is fresh: new secret instances each time");
  std::set<std::string> names;
  for (const auto& [n, v] : stored.metrics.values) names.insert(n);
  for (const auto& [n, v] : now.metrics.values) names.insert(n);
  bool exact = true, close = true;
  json table = json::array();
  for (const auto& n : names) {
    auto x = stored.metrics.Get(n), y = now.metrics.Get(n);
    table.push_back({{"metric", n}, {"stored", x ? json(*x) : json(nullptr)}, {"replayed", y ? json(*y) : json(nullptr)}});
    if (n == "wall_s" || n == "cpu_s") continue;  // times are recorded, never compared
    if (!x || !y || *x != *y) exact = false;
    if (!x || !y || std::fabs(*x - *y) > 0.10 * std::max(std::fabs(*x), 1e-12)) close = false;
  }
  const bool deterministic = evaluators::TraitsOf(now.meter).deterministic;
  std::string verdict = exact ? "identical" : (!deterministic && close ? "within tolerance" : "differs");
  if (verdict == "differs" && reasons.empty())
    reasons.push_back("nothing changed that explains it: the evaluator is meant to be deterministic here; investigate");
  // A new evaluator, meter or device gets its own stored evaluation.
  if (now.evaluator_version != stored.evaluator_version || now.meter != stored.meter || now.device != stored.device) {
    archive::Attempt at;
    at.existing_candidate = c.id;
    at.evaluations.push_back(now);
    if (auto stored_now = ar.Record(at); !stored_now)
      fmt::print(stderr, "ergon replay: note: the new evaluation was not stored in {}: {}\n", a.db, stored_now.error());
  }
  if (a.json) {
    fmt::print("{}\n", json{{"id", c.id}, {"task", c.task}, {"verdict", verdict}, {"reasons", reasons}, {"metrics", table}}.dump());
  } else {
    fmt::print("{:<14} {:>16} {:>16}\n", "metric", "stored", "replayed");
    for (const auto& t : table)
      fmt::print("{:<14} {:>16} {:>16}\n", t["metric"].get<std::string>(),
                 t["stored"].is_null() ? "-" : fmt::format("{:.10g}", t["stored"].get<double>()),
                 t["replayed"].is_null() ? "-" : fmt::format("{:.10g}", t["replayed"].get<double>()));
    std::string why;
    for (std::size_t i = 0; i < reasons.size(); ++i) why += (i ? "; " : "") + reasons[i];
    fmt::print("verdict: {}{}\n", verdict, why.empty() ? "" : " (" + why + ")");
  }
  if (!a.emit_dir.empty()) {
    auto fresh = ar.Get(a.id);
    if (fresh && *fresh && Emit(ar, **fresh, a.emit_dir, specs) != 0) return 1;
  }
  return verdict == "differs" ? 1 : 0;
}

}  // namespace ergon::engine
