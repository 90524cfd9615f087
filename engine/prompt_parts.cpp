#include "engine/prompt_parts.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <vector>

#include <fmt/core.h>

#include "engine/evaluate.h"
#include "evaluators/hot_spots.h"
#include "genome/diff.h"

namespace ergon::engine {

std::string Cut(const std::string& s, std::size_t n) {
  if (s.size() <= n) return s;
  return s.substr(0, n) + fmt::format("\n[... {} more characters not shown ...]\n", s.size() - n);
}

std::string Standing(const evaluators::TaskSpec& spec, const std::optional<archive::Evaluation>& parent,
                     std::int64_t parent_id, const std::optional<Landmark>& baseline,
                     const std::optional<Landmark>& best) {
  if (!parent) return "";
  const auto v = parent->metrics.Get(spec.minimise);
  if (!v) return "";
  const std::string& m = spec.minimise;
  std::string s;
  if (baseline && baseline->value > 0) {
    if (baseline->id == parent_id) s = fmt::format("This program is the baseline (candidate {}).", parent_id);
    else s = fmt::format("{} is {:.3g}x the baseline's (candidate {}).", m, *v / baseline->value, baseline->id);
  }
  if (best && best->value > 0) {
    if (best->id == parent_id) {
      s += " It is the best so far.";
    } else {
      s += fmt::format(" The best so far (candidate {}) has {}={:.4g}", best->id, m, best->value);
      if (baseline && baseline->value > 0) s += fmt::format(", {:.3g}x the baseline", best->value / baseline->value);
      s += fmt::format("; this program uses {:.3g}x the best's.", *v / best->value);
    }
  }
  return s;
}

std::string DiffWithinBudget(const std::string& from, const std::string& to, const std::string& from_name,
                             const std::string& to_name, std::size_t budget) {
  genome::DiffOptions o;
  o.from_name = from_name;
  o.to_name = to_name;
  const std::string d = genome::UnifiedDiff(from, to, o);
  if (d.size() <= budget) return d;
  // Split into the header and hunks; keep whole hunks while they fit.
  std::vector<std::string> hunks;
  std::string header;
  std::size_t at = 0;
  while (at < d.size()) {
    std::size_t e = d.find('\n', at);
    e = e == std::string::npos ? d.size() : e + 1;
    const std::string line = d.substr(at, e - at);
    if (line.rfind("@@", 0) == 0) hunks.push_back(line);
    else if (hunks.empty()) header += line;
    else hunks.back() += line;
    at = e;
  }
  std::string out = header;
  std::size_t kept = 0, left_lines = 0;
  for (const auto& h : hunks) {
    if (out.size() + h.size() <= budget && kept == static_cast<std::size_t>(&h - &hunks[0])) {
      out += h;
      ++kept;
    } else {
      left_lines += static_cast<std::size_t>(std::count(h.begin(), h.end(), '\n'));
    }
  }
  if (kept == 0 && !hunks.empty()) {  // one hunk larger than the budget: its head
    out += hunks[0].substr(0, budget > out.size() ? budget - out.size() : 0);
    if (out.back() != '\n') out += '\n';
    left_lines = 0;
    for (std::size_t i = 1; i < hunks.size(); ++i)
      left_lines += static_cast<std::size_t>(std::count(hunks[i].begin(), hunks[i].end(), '\n'));
    out += "[... the rest of this hunk not shown ...]\n";
    kept = 1;
  }
  if (kept < hunks.size())
    out += fmt::format("[... {} more hunk{} ({} lines) not shown ...]\n", hunks.size() - kept,
                       hunks.size() - kept == 1 ? "" : "s", left_lines);
  return out;
}

std::string InspirationText(const evaluators::TaskSpec& spec, const archive::Row& child,
                            const std::optional<archive::Row>& parent, bool sources_too_big) {
  const auto& c = child.candidate;
  std::string s = fmt::format("- candidate {}: \"{}\"\n", c.id, Cut(c.intent, 300));
  if (!parent) return s + "  (a root: no parent to compare with)\n";
  const auto& p = *parent;
  s += fmt::format("  from candidate {}: {} -> {}\n", p.candidate.id, DescribeMetrics(spec, p.best),
                   DescribeMetrics(spec, child.best));
  if (p.best && child.best) {
    const auto x = p.best->metrics.Get(spec.minimise), y = child.best->metrics.Get(spec.minimise);
    if (x && y && *x > 0) s += fmt::format("  {} changed {:+.1f}%", spec.minimise, 100 * (*y - *x) / *x);
    const std::string comp = evaluators::ComponentChange(p.best->metrics.components, child.best->metrics.components);
    if (!comp.empty()) s += "; by component: " + comp;
    s += "\n";
  }
  if (sources_too_big) return s + "  (generated sources too large to diff)\n";
  return s + DiffWithinBudget(p.candidate.source, c.source, fmt::format("candidate {}", p.candidate.id),
                              fmt::format("candidate {}", c.id), kInspirationDiffBudget);
}

std::string FailureText(const archive::AttemptRow& a) {
  std::string s = fmt::format("- {}: {}\n", a.stage, Cut(a.error, 500));
  if (a.proposal.empty()) return s;
  // The agent's own words come before its first edit.
  std::string intent = a.proposal.substr(0, std::min(a.proposal.find("<<<<<<<"), a.proposal.find("```")));
  while (!intent.empty() && std::isspace(static_cast<unsigned char>(intent.back()))) intent.pop_back();
  if (!intent.empty()) s += fmt::format("  it proposed: \"{}\"\n", Cut(intent, 200));
  const auto e = a.proposal.find("<<<<<<<");
  if (e != std::string::npos) s += "  its edit began:\n" + Cut(a.proposal.substr(e), 300) + "\n";
  return Cut(s, kFailureBudget);
}

std::map<std::string, std::string> PromptVars(const PromptInput& in) {
  const evaluators::TaskSpec& spec = *in.spec;
  std::string objective =
      fmt::format("keep {} >= {} (the gate), then minimise {}", spec.gate_metric, spec.gate_min, spec.minimise);
  std::string edit_rules = spec.whole_file ? "You may instead answer with one complete new program in a ```cpp fence: "
                                             "the whole algorithm is yours to change."
                                           : "Only code between EVOLVE-BLOCK-START and EVOLVE-BLOCK-END may change, "
                                             "where the program has such markers.";
  if (!in.knob_rule.empty()) edit_rules += "\n" + in.knob_rule;
  std::string insp;
  for (const auto& i : in.inspirations) insp += InspirationText(spec, i.child, i.parent, i.too_big);
  std::string fails;
  for (const auto& f : in.failures) fails += FailureText(f);
  const auto& pc = in.parent.candidate;
  std::string source = pc.source.empty() && pc.source_bytes > 0
                           ? fmt::format("[a generated source of {} bytes, too large to show]", pc.source_bytes)
                           : Cut(pc.source, kParentSourceBudget);
  std::string hot = in.parent.best ? evaluators::HotSpotsText(in.parent.best->metrics.components, pc.source, 5) : "";
  return {{"task_name", spec.name},
          {"task_description", Cut(spec.description, 4000)},
          {"objective", objective},
          {"task_facts", Cut(in.task_facts, 3000)},
          {"edit_rules", edit_rules},
          {"parent_id", std::to_string(pc.id)},
          {"parent_metrics", DescribeMetrics(spec, in.parent.best)},
          {"parent_standing", Standing(spec, in.parent.best, pc.id, in.baseline, in.best) +
                                  (in.parent_note.empty() ? "" : "\n" + in.parent_note)},
          {"parent_source", source},
          {"parent_hot_spots", Cut(hot, 3000)},
          {"inspirations", insp.empty() ? "(none yet)\n" : insp},
          {"failures", fails.empty() ? "(none)\n" : fails},
          {"meta_summary", in.meta.empty() ? "(nothing yet)\n" : Cut(in.meta, 3000)}};
}

const std::vector<std::string>& PromptVarNames() {
  static const std::vector<std::string> names = {
      "task_name",     "task_description", "objective",        "task_facts",   "edit_rules", "parent_id",
      "parent_metrics", "parent_standing", "parent_source", "parent_hot_spots", "inspirations", "failures", "meta_summary", "error"};
  return names;
}

}  // namespace ergon::engine
