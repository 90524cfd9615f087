// `ergon archive ...` and `ergon replay`: reading the archive for people and
// scripts, exporting a candidate, and re-evaluating one.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "archive/archive.h"
#include "engine/commands.h"
#include "engine/evaluate.h"
#include "engine/home.h"
#include "engine/record.h"
#include "genome/diff.h"

namespace ergon::engine {
namespace {
namespace fs = std::filesystem;
using archive::Row;
using json = nlohmann::json;

void PutMetrics(json& j, const archive::Evaluation& e) {
  j["evaluator_version"] = e.evaluator_version;
  j["meter"] = e.meter;
  j["device"] = e.device;
  j["suite"] = e.suite;
  j["eval_status"] = e.status;
  j["fitness"] = e.fitness;
  if (e.metrics.accuracy) j["accuracy"] = *e.metrics.accuracy;
  if (e.metrics.recovery) j["recovery"] = *e.metrics.recovery;
  if (e.metrics.energy_j) j["energy_j"] = *e.metrics.energy_j;
  if (e.metrics.cost) j["cost"] = *e.metrics.cost;
  if (e.metrics.wall_s) j["wall_s"] = *e.metrics.wall_s;
  if (!e.metrics.components.empty()) {
    try {
      j["components"] = json::parse(e.metrics.components);
    } catch (const json::exception&) {
      j["components"] = e.metrics.components;
    }
  }
}

json RowJson(const Row& r) {
  const auto& c = r.candidate;
  json j;
  j["id"] = c.id;
  j["parent"] = c.parent ? json(*c.parent) : json(nullptr);
  j["run"] = c.run_id;
  j["task"] = c.task;
  j["island"] = c.island;
  j["generation"] = c.generation;
  j["status"] = c.status;
  j["gate_passed"] = c.gate_passed;
  j["on_front"] = c.on_front;
  j["children"] = c.children;
  j["hash"] = c.hash;
  j["intent"] = c.intent;
  j["created_at"] = c.created_at;
  if (r.best) PutMetrics(j, *r.best);
  return j;
}

std::string Fmt(std::optional<double> v, const std::string& name) {
  if (!v) return "-";
  if (name == "cost") return fmt::format("{:.0f}", *v);
  if (name == "energy_j") return fmt::format("{:.4e}", *v);
  return fmt::format("{:.4f}", *v);
}

std::string Short(std::string s, std::size_t n) {
  for (auto& ch : s)
    if (ch == '\n' || ch == '\t') ch = ' ';
  return s.size() > n ? s.substr(0, n - 3) + "..." : s;
}

void PrintTable(const std::vector<Row>& rows) {
  if (rows.empty()) {
    fmt::print("(no candidates)\n");
    return;
  }
  fmt::print("{:>6} {:>6} {:<13} {:<10} {:<5} {:>12} {:>10} {:>9}  {}\n", "id", "parent", "task", "status", "gate",
             "cost|energy", "acc|rec", "wall_s", "intent");
  for (const auto& r : rows) {
    const auto& c = r.candidate;
    std::string main = "-", quality = "-", wall = "-";
    if (r.best) {
      const auto& m = r.best->metrics;
      main = m.cost ? Fmt(m.cost, "cost") : Fmt(m.energy_j, "energy_j");
      quality = m.recovery ? Fmt(m.recovery, "recovery") : Fmt(m.accuracy, "accuracy");
      wall = Fmt(m.wall_s, "wall_s");
    }
    fmt::print("{:>6} {:>6} {:<13} {:<10} {:<5} {:>12} {:>10} {:>9}  {}\n", c.id,
               c.parent ? std::to_string(*c.parent) : "-", Short(c.task, 13), c.status, c.gate_passed ? "yes" : "no",
               main, quality, wall, Short(c.intent, 40));
  }
}

int Emit(archive::Archive& a, const Row& row, const std::string& dir) {
  const auto& c = row.candidate;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    fmt::print(stderr, "ergon: {} exists and is not empty; choose a new folder\n", dir);
    return 1;
  }
  fs::create_directories(dir, ec);
  if (ec) {
    fmt::print(stderr, "ergon: cannot create {}: {}\n", dir, ec.message());
    return 1;
  }
  const bool cuda = c.source.find("__global__") != std::string::npos;
  const std::string file = cuda ? "candidate.cu" : "candidate.cpp";
  std::ofstream(fs::path(dir) / file) << c.source;
  const std::string build = cuda ? "nvcc -O2 -std=c++17 -o candidate candidate.cu"
                                 : "g++ -O2 -std=c++20 -o candidate candidate.cpp";
  std::ofstream(fs::path(dir) / "build.sh") << "#!/bin/sh\nset -e\ncd \"$(dirname \"$0\")\"\n" << build << "\n";
  fs::permissions(fs::path(dir) / "build.sh", fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  if (auto home = FindHome()) {
    fs::copy_file(fs::path(*home) / "evaluators" / c.task / "task.json", fs::path(dir) / "task.json",
                  fs::copy_options::overwrite_existing, ec);
  }
  std::string readme = fmt::format("# ergon candidate {} ({})\n\nBuild: `sh build.sh` (or `{}`).\n\n", c.id, c.task, build);
  if (c.task == "dally_parity")
    readme += "Run: `./candidate > program.ir` prints the IR program; score it with the Sutro group's scorer or "
              "`ergon score program.ir --tier mask32 --suite dev`.\n\n";
  else
    readme += "Run: in a folder holding train.txt (\"n k m\", then m lines \"<bits> <label>\") and test.txt (\"n m\", "
              "then m lines of bits), `./candidate` writes predictions.txt (one 0/1 per test row).\n\n";
  readme += "## Metrics (as archived)\n\n";
  auto evals = a.Evaluations(c.id);
  if (evals)
    for (const auto& e : *evals) {
      json j;
      PutMetrics(j, e);
      readme += fmt::format("- {}\n", j.dump());
    }
  readme += "\n## Lineage (newest first)\n\n";
  if (auto lin = a.Lineage(c.id))
    for (const auto& r : *lin)
      readme += fmt::format("- {} {}: {}\n", r.candidate.id, r.best ? MainMetric(c.task, *r.best) : "-",
                            r.best ? Fmt(MetricValue(*r.best, MainMetric(c.task, *r.best)), MainMetric(c.task, *r.best))
                                   : "-");
  readme += fmt::format("\nSource hash (normalised SHA-256): {}\n", c.hash);
  std::ofstream(fs::path(dir) / "README.md") << readme;
  fmt::print("wrote {}/{{{}, build.sh, task.json, README.md}}\n", dir, file);
  return 0;
}

}  // namespace

int CmdArchive(const std::string& sub, const ArchiveArgs& a) {
  auto opened = archive::Archive::OpenReadOnly(a.db);
  if (!opened) {
    fmt::print(stderr, "ergon archive: {}\n", opened.error());
    return 1;
  }
  archive::Archive& ar = **opened;
  auto fail = [&](const std::string& e) {
    fmt::print(stderr, "ergon archive {}: {}\n", sub, e);
    return 1;
  };
  auto print_rows = [&](const tl::expected<std::vector<Row>, std::string>& rows) {
    if (!rows) return fail(rows.error());
    if (a.json) {
      json arr = json::array();
      for (const auto& r : *rows) arr.push_back(RowJson(r));
      fmt::print("{}\n", arr.dump());
    } else {
      PrintTable(*rows);
    }
    return 0;
  };
  if (sub == "list") return print_rows(ar.List({a.run, a.task, a.status, a.limit}));
  if (sub == "top") return print_rows(ar.Top(a.task, a.by, a.limit));
  if (sub == "search") return print_rows(ar.Search(a.text, a.limit));
  if (sub == "pareto") return print_rows(ar.Pareto(a.task));
  if (sub == "show" || sub == "lineage" || sub == "export") {
    auto row = ar.Get(a.id);
    if (!row) return fail(row.error());
    if (!*row) return fail(fmt::format("no candidate {} in {}", a.id, a.db));
    if (sub == "export") return Emit(ar, **row, a.out_dir);
    auto lin = ar.Lineage(a.id);
    if (!lin) return fail(lin.error());
    const std::string task = (*row)->candidate.task;
    if (sub == "lineage") {
      if (a.json) {
        json arr = json::array();
        for (std::size_t i = 0; i < lin->size(); ++i) {
          json j = RowJson((*lin)[i]);
          const auto& cur = (*lin)[i].best;
          const auto* prev = i + 1 < lin->size() && (*lin)[i + 1].best ? &*(*lin)[i + 1].best : nullptr;
          if (cur && prev) {
            auto name = MainMetric(task, *cur);
            auto x = MetricValue(*cur, name), y = MetricValue(*prev, name);
            if (x && y && *y != 0) j["change"] = (*x - *y) / std::fabs(*y);
          }
          arr.push_back(j);
        }
        fmt::print("{}\n", arr.dump());
        return 0;
      }
      for (std::size_t i = 0; i < lin->size(); ++i) {
        const Row& r = (*lin)[i];
        std::string metric = "-", change;
        if (r.best) {
          auto name = MainMetric(task, *r.best);
          metric = name + " " + Fmt(MetricValue(*r.best, name), name);
          if (i + 1 < lin->size() && (*lin)[i + 1].best) {
            auto x = MetricValue(*r.best, name), y = MetricValue(*(*lin)[i + 1].best, name);
            if (x && y && *y != 0) change = fmt::format("  ({:+.1f}% vs parent)", 100 * (*x - *y) / std::fabs(*y));
          }
        }
        fmt::print("{}{} {}{}  {}\n", std::string(2 * i, ' '), r.candidate.id, metric, change, Short(r.candidate.intent, 50));
      }
      return 0;
    }
    auto evals = ar.Evaluations(a.id);
    if (!evals) return fail(evals.error());
    if (a.json) {
      json j = RowJson(**row);
      j["source"] = (*row)->candidate.source;
      j["edit"] = (*row)->candidate.edit;
      json ev = json::array();
      for (const auto& e : *evals) {
        json x;
        PutMetrics(x, e);
        x["feedback"] = e.feedback;
        ev.push_back(x);
      }
      j["evaluations"] = ev;
      json anc = json::array();
      for (std::size_t i = 1; i < lin->size(); ++i) anc.push_back((*lin)[i].candidate.id);
      j["ancestors"] = anc;
      fmt::print("{}\n", j.dump());
      return 0;
    }
    const auto& c = (*row)->candidate;
    fmt::print("candidate {}  task {}  status {}  gate {}  island {}  parent {}  children {}\n", c.id, c.task, c.status,
               c.gate_passed ? "passed" : "not passed", c.island, c.parent ? std::to_string(*c.parent) : "-", c.children);
    fmt::print("intent: {}\n\nevaluations:\n", c.intent.empty() ? "-" : c.intent);
    for (const auto& e : *evals) {
      json x;
      PutMetrics(x, e);
      fmt::print("  {}\n", x.dump());
    }
    fmt::print("\nlineage: ");
    for (std::size_t i = 0; i < lin->size(); ++i) fmt::print("{}{}", i ? " <- " : "", (*lin)[i].candidate.id);
    fmt::print("\n\nsource ({} bytes, hash {}):\n{}\n", c.source.size(), c.hash.substr(0, 16), c.source);
    for (const auto& e : *evals)
      if (!e.feedback.empty()) fmt::print("feedback ({} / {}):\n{}\n", e.meter, e.suite, e.feedback);
    return 0;
  }
  if (sub == "diff") {
    auto x = ar.Get(a.id), y = ar.Get(a.other);
    if (!x || !y) return fail(!x ? x.error() : y.error());
    if (!*x || !*y) return fail(fmt::format("no candidate {}", !*x ? a.id : a.other));
    genome::DiffOptions o;
    o.from_name = fmt::format("candidate {}", a.id);
    o.to_name = fmt::format("candidate {}", a.other);
    std::string d = genome::UnifiedDiff((*x)->candidate.source, (*y)->candidate.source, o);
    if (a.json) fmt::print("{}\n", json{{"a", a.id}, {"b", a.other}, {"diff", d}}.dump());
    else fmt::print("{}", d.empty() ? "(identical sources)\n" : d);
    return 0;
  }
  if (sub == "runs") {
    auto runs = ar.Runs();
    if (!runs) return fail(runs.error());
    if (a.json) {
      json arr = json::array();
      for (const auto& r : *runs)
        arr.push_back({{"id", r.id}, {"task", r.task}, {"agent", r.agent}, {"model", r.model}, {"settings", r.settings},
                       {"started_at", r.started_at}, {"ended_at", r.ended_at}, {"status", r.status}});
      fmt::print("{}\n", arr.dump());
      return 0;
    }
    fmt::print("{:>4} {:<14} {:<10} {:<20} {:<8}\n", "id", "task", "agent", "model", "status");
    for (const auto& r : *runs) fmt::print("{:>4} {:<14} {:<10} {:<20} {:<8}\n", r.id, r.task, r.agent, r.model, r.status);
    return 0;
  }
  if (sub == "ledger") {
    auto led = ar.Ledger();
    if (!led) return fail(led.error());
    if (a.json) {
      json arr = json::array();
      for (const auto& l : *led)
        arr.push_back({{"run", l.run_id}, {"model", l.model}, {"calls", l.calls}, {"tokens_in", l.tokens_in},
                       {"tokens_out", l.tokens_out}, {"cost_usd", l.cost_usd}, {"latency_s", l.latency_s},
                       {"failures", l.failures}});
      fmt::print("{}\n", arr.dump());
      return 0;
    }
    fmt::print("{:>4} {:<24} {:>6} {:>10} {:>10} {:>10} {:>9}\n", "run", "model", "calls", "tokens_in", "tokens_out",
               "cost_usd", "failures");
    for (const auto& l : *led)
      fmt::print("{:>4} {:<24} {:>6} {:>10} {:>10} {:>10.4f} {:>9}\n", l.run_id, l.model, l.calls, l.tokens_in,
                 l.tokens_out, l.cost_usd, l.failures);
    return 0;
  }
  return fail("unknown subcommand");
}

int CmdReplay(const ReplayArgs& a) {
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
  auto home = FindHome();
  if (!home) {
    fmt::print(stderr, "ergon replay: {}\n", home.error());
    return 1;
  }
  EvalRequest q;
  q.task = c.task;
  q.source = c.source;
  q.cuda = c.source.find("__global__") != std::string::npos;
  q.meter = a.meter.empty() ? (stored.meter == "dally" ? "" : stored.meter) : a.meter;
  q.suite = stored.suite;
  q.timeout_s = a.timeout_s;
  q.home = *home;
  try {
    auto comp = json::parse(stored.metrics.components.empty() ? "{}" : stored.metrics.components);
    if (comp.contains("instances") && stored.suite != "dev") q.instances = comp["instances"].get<std::size_t>();
    if (comp.contains("instances") && c.task == "sparse_parity") q.instances = comp["instances"].get<std::size_t>();
  } catch (const json::exception&) {
  }
  if (!a.json) fmt::print(stderr, "ergon replay: re-evaluating candidate {} ({}, meter {}, suite {})...\n", c.id, c.task,
                          q.meter.empty() ? "dally" : q.meter, q.suite);
  EvalOutcome o = Evaluate(q);
  if (o.usage_error || !o.ran) {
    fmt::print(stderr, "ergon replay: the candidate did not run: {} (stage {})\n", o.error, o.stage);
    return 1;
  }
  const archive::Evaluation& now = o.scored.evaluation;
  std::vector<std::string> reasons;
  if (now.evaluator_version != stored.evaluator_version)
    reasons.push_back(fmt::format("evaluator version changed ({} -> {})", stored.evaluator_version, now.evaluator_version));
  if (now.meter != stored.meter) reasons.push_back(fmt::format("meter differs ({} -> {})", stored.meter, now.meter));
  if (now.device != stored.device) reasons.push_back(fmt::format("device differs ({} -> {})", stored.device, now.device));
  if (stored.suite == "fresh") reasons.push_back("suite is fresh: new secret instances each time");
  const std::vector<std::string> names = {"cost", "recovery", "accuracy", "energy_j", "wall_s"};
  bool exact = true, close = true;
  json table = json::array();
  for (const auto& n : names) {
    auto x = MetricValue(stored, n), y = MetricValue(now, n);
    if (!x && !y) continue;
    table.push_back({{"metric", n}, {"stored", x ? json(*x) : json(nullptr)}, {"replayed", y ? json(*y) : json(nullptr)}});
    if (n == "wall_s") continue;  // wall time is recorded, never compared
    if (!x || !y || *x != *y) exact = false;
    if (!x || !y || std::fabs(*x - *y) > 0.10 * std::max(std::fabs(*x), 1e-12)) close = false;
  }
  const bool deterministic = now.meter == "dally" || now.meter == "cachemodel";
  std::string verdict = exact ? "identical" : (!deterministic && close ? "within tolerance" : "differs");
  if (verdict == "differs" && reasons.empty())
    reasons.push_back("nothing changed that explains it: the evaluator is meant to be deterministic here; investigate");
  // A new evaluator, meter or device gets its own stored evaluation.
  if (now.evaluator_version != stored.evaluator_version || now.meter != stored.meter || now.device != stored.device) {
    archive::Attempt at;
    at.existing_candidate = c.id;
    at.evaluations.push_back(now);
    (void)ar.Record(at);
  }
  if (a.json) {
    fmt::print("{}\n", json{{"id", c.id}, {"task", c.task}, {"verdict", verdict}, {"reasons", reasons}, {"metrics", table}}.dump());
  } else {
    fmt::print("{:<10} {:>16} {:>16}\n", "metric", "stored", "replayed");
    for (const auto& t : table)
      fmt::print("{:<10} {:>16} {:>16}\n", t["metric"].get<std::string>(),
                 t["stored"].is_null() ? "-" : fmt::format("{:.10g}", t["stored"].get<double>()),
                 t["replayed"].is_null() ? "-" : fmt::format("{:.10g}", t["replayed"].get<double>()));
    fmt::print("verdict: {}{}\n", verdict, reasons.empty() ? "" : " (" + [&] {
      std::string s;
      for (std::size_t i = 0; i < reasons.size(); ++i) s += (i ? "; " : "") + reasons[i];
      return s;
    }() + ")");
  }
  if (!a.emit_dir.empty()) {
    auto fresh = ar.Get(a.id);
    if (fresh && *fresh && Emit(ar, **fresh, a.emit_dir) != 0) return 1;
  }
  return verdict == "differs" ? 1 : 0;
}

}  // namespace ergon::engine
