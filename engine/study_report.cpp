#include "engine/study_report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "engine/evaluate.h"

namespace ergon::engine {
namespace {

using json = nlohmann::json;

double Median(std::vector<double> v) { return QuartilesOf(std::move(v)).median; }

// The run's candidates in the order they were recorded, as a curve.
tl::expected<StudyRun, std::string> ReadRun(archive::Archive& archive, const archive::Run& run,
                                            const std::string& metric, double baseline) {
  StudyRun r;
  r.run_id = run.id;
  r.status = run.status;
  const json st = json::parse(run.settings, nullptr, false);
  if (st.is_object()) r.seed = st.value("seed", std::uint64_t{0});
  archive::ListFilter f;
  f.run_id = run.id;
  f.limit = -1;
  auto rows = archive.List(f);
  if (!rows) return tl::unexpected(rows.error());
  std::reverse(rows->begin(), rows->end());  // oldest first
  auto ledger = archive.LedgerRows(run.id, std::nullopt, -1);
  if (!ledger) return tl::unexpected(ledger.error());
  std::reverse(ledger->begin(), ledger->end());
  // Spend up to and including each candidate's own call.
  std::map<std::int64_t, std::pair<std::int64_t, double>> spent_at;
  std::int64_t tokens = 0;
  double dollars = 0;
  for (const auto& l : *ledger) {
    tokens += l.tokens_in + l.tokens_out;
    dollars += l.cost_usd;
    if (l.candidate_id) spent_at[*l.candidate_id] = {tokens, dollars};
  }
  double best = baseline;
  std::pair<std::int64_t, double> spent{0, 0};
  for (const auto& row : *rows) {
    if (!row.candidate.parent) continue;  // the baseline, if this run made it
    const bool counts = row.candidate.gate_passed && row.candidate.status != archive::CandidateStatus::kOverfit &&
                        row.candidate.status != archive::CandidateStatus::kPending && row.best;
    if (counts)
      if (auto v = row.best->metrics.Get(metric)) best = std::min(best, *v);
    if (auto it = spent_at.find(row.candidate.id); it != spent_at.end()) spent = it->second;
    r.best.push_back(best);
    r.tokens.push_back(spent.first);
    r.dollars.push_back(spent.second);
  }
  return r;
}

std::string Num(double v) { return FormatMetric(v); }

}  // namespace

Quartiles QuartilesOf(std::vector<double> v) {
  Quartiles q;
  if (v.empty()) return q;
  std::sort(v.begin(), v.end());
  auto at = [&](double f) {
    const double pos = f * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
  };
  q.q1 = at(0.25);
  q.median = at(0.5);
  q.q3 = at(0.75);
  return q;
}

tl::expected<StudyReport, std::string> ReadStudy(archive::Archive& archive, const std::string& name,
                                                 const std::string& task, const std::string& metric,
                                                 const std::vector<std::string>& arms, std::optional<double> target) {
  StudyReport rep;
  rep.name = name;
  rep.task = task;
  rep.metric = metric;
  rep.target = target;
  if (auto b = archive.Baseline(task); b && *b)
    if (auto row = archive.Get(**b, 0); row && *row && (*row)->best)
      rep.baseline = (*row)->best->metrics.Get(metric).value_or(0);
  auto runs = archive.Runs();
  if (!runs) return tl::unexpected(runs.error());
  for (const std::string& arm : arms) {
    StudyArm a;
    a.name = arm;
    // The newest run of each seed (a seed started again replaces the old).
    std::map<std::uint64_t, archive::Run> by_seed;
    for (const auto& run : *runs) {
      if (run.task != task) continue;
      const json st = json::parse(run.settings, nullptr, false);
      if (!st.is_object() || !st.contains("study") || !st["study"].is_object()) continue;
      const json& s = st["study"];
      if (s.value("name", "") != name || s.value("arm", "") != arm) continue;
      by_seed[s.value("seed", std::uint64_t{0})] = run;
    }
    for (const auto& [seed, run] : by_seed) {
      auto r = ReadRun(archive, run, metric, rep.baseline);
      if (!r) return tl::unexpected(r.error());
      a.runs.push_back(std::move(*r));
    }
    std::vector<double> finals, cand, toks, usd;
    std::size_t longest = 0;
    for (const auto& r : a.runs) {
      finals.push_back(r.Final(rep.baseline));
      longest = std::max(longest, r.best.size());
      if (!target) continue;
      for (std::size_t k = 0; k < r.best.size(); ++k)
        if (r.best[k] <= *target) {
          ++a.reached;
          cand.push_back(static_cast<double>(k + 1));
          toks.push_back(static_cast<double>(r.tokens[k]));
          usd.push_back(r.dollars[k]);
          break;
        }
    }
    a.final = QuartilesOf(finals);
    if (!cand.empty()) {
      a.to_target_candidates = Median(cand);
      a.to_target_tokens = Median(toks);
      a.to_target_dollars = Median(usd);
    }
    for (std::size_t k = 0; k < longest; ++k) {
      std::vector<double> at;
      for (const auto& r : a.runs)
        at.push_back(r.best.empty() ? rep.baseline : r.best[std::min(k, r.best.size() - 1)]);
      a.curve.push_back(QuartilesOf(at));
    }
    rep.arms.push_back(std::move(a));
  }
  for (std::size_t i = 0; i < rep.arms.size(); ++i)
    for (std::size_t j = i + 1; j < rep.arms.size(); ++j) {
      std::vector<double> x, y;
      for (const auto& r : rep.arms[i].runs) x.push_back(r.Final(rep.baseline));
      for (const auto& r : rep.arms[j].runs) y.push_back(r.Final(rep.baseline));
      StudyComparison c;
      c.a = rep.arms[i].name;
      c.b = rep.arms[j].name;
      c.test = MannWhitney(x, y);
      c.a_lower = rep.arms[i].final.median < rep.arms[j].final.median;
      rep.comparisons.push_back(c);
    }
  return rep;
}

std::string StudyText(const StudyReport& r) {
  std::string s = fmt::format("study '{}' on {}: {}, lower is better; the baseline's {}\n", r.name, r.task, r.metric,
                              Num(r.baseline));
  std::size_t width = 5;
  for (const auto& a : r.arms) width = std::max(width, a.name.size());
  s += fmt::format("{:<{}}  runs  candidates  final best: median [q1, q3]{}\n", "arm", width,
                   r.target ? fmt::format("  reached {}: runs, median candidates / tokens / $", Num(*r.target)) : "");
  for (const auto& a : r.arms) {
    std::size_t cands = 0;
    for (const auto& run : a.runs) cands = std::max(cands, run.best.size());
    std::string line = fmt::format("{:<{}}  {:>4}  {:>10}  {} [{}, {}]", a.name, width, a.runs.size(), cands,
                                   Num(a.final.median), Num(a.final.q1), Num(a.final.q3));
    if (r.target) {
      line += fmt::format("  {} of {}", a.reached, a.runs.size());
      if (a.to_target_candidates)
        line += fmt::format(": {} / {} / ${:.4f}", Num(*a.to_target_candidates), Num(*a.to_target_tokens),
                            *a.to_target_dollars);
    }
    s += line + "\n";
  }
  for (const auto& c : r.comparisons)
    s += fmt::format("rank test (Mann-Whitney U, two-sided, {}): {} vs {}: U = {}, p = {:.4f}; {}\n",
                     c.test.exact ? "exact" : "normal approximation", c.a, c.b, Num(c.test.u), c.test.p,
                     c.test.p < 0.05 ? fmt::format("{} is {} (p < 0.05)", c.a, c.a_lower ? "lower" : "higher")
                                     : std::string("no difference at p < 0.05"));
  // The anytime curves, at a few points.
  std::size_t longest = 0;
  for (const auto& a : r.arms) longest = std::max(longest, a.curve.size());
  if (longest > 0) {
    std::vector<std::size_t> ks;
    for (std::size_t k = 1; k <= longest; k = k < 5 ? k + 1 : k * 2) ks.push_back(k);
    if (ks.back() != longest) ks.push_back(longest);
    s += fmt::format("best after k candidates, median over seeds:\n{:<{}}", "k", width);
    for (auto k : ks) s += fmt::format(" {:>8}", k);
    s += "\n";
    for (const auto& a : r.arms) {
      s += fmt::format("{:<{}}", a.name, width);
      for (auto k : ks) s += k <= a.curve.size() ? fmt::format(" {:>8}", Num(a.curve[k - 1].median)) : "        -";
      s += "\n";
    }
  }
  return s;
}

std::string StudyJson(const StudyReport& r) {
  json j = {{"study", r.name}, {"task", r.task}, {"metric", r.metric}, {"baseline", r.baseline},
            {"target", r.target ? json(*r.target) : json(nullptr)}};
  j["arms"] = json::array();
  for (const auto& a : r.arms) {
    json arm = {{"arm", a.name},
                {"final", {{"median", a.final.median}, {"q1", a.final.q1}, {"q3", a.final.q3}}},
                {"reached", a.reached}};
    auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
    arm["to_target"] = {{"candidates", opt(a.to_target_candidates)}, {"tokens", opt(a.to_target_tokens)},
                        {"dollars", opt(a.to_target_dollars)}};
    arm["runs"] = json::array();
    for (const auto& run : a.runs)
      arm["runs"].push_back({{"run", run.run_id}, {"seed", run.seed}, {"status", archive::StatusName(run.status)}, {"best", run.best},
                             {"tokens", run.tokens}, {"dollars", run.dollars}});
    arm["curve"] = json::array();
    for (std::size_t k = 0; k < a.curve.size(); ++k)
      arm["curve"].push_back({{"k", k + 1}, {"median", a.curve[k].median}, {"q1", a.curve[k].q1}, {"q3", a.curve[k].q3}});
    j["arms"].push_back(arm);
  }
  j["comparisons"] = json::array();
  for (const auto& c : r.comparisons)
    j["comparisons"].push_back({{"a", c.a}, {"b", c.b}, {"u", c.test.u}, {"p", c.test.p}, {"exact", c.test.exact},
                                {"a_lower", c.a_lower}});
  return j.dump();
}

}  // namespace ergon::engine
