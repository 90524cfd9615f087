#include "evaluators/hot_spots.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace ergon::evaluators {
namespace {

using json = nlohmann::json;

constexpr std::pair<const char*, const char*> kComponents[] = {
    {"instructions_j", "instructions"}, {"l1_j", "L1"}, {"ll_j", "LL"}, {"dram_j", "DRAM"}};

json ParseOrNull(const std::string& text) {
  if (text.empty()) return nullptr;
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    return nullptr;
  }
}

double Num(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

// "instructions 43%, L1 56%": where one hot spot's joules went.
std::string Split(const json& e) {
  const double total = Num(e, "j");
  if (total <= 0) return "";
  std::string s;
  for (const auto& [key, name] : kComponents) {
    const double share = Num(e, key) / total;
    if (share < 0.005) continue;
    s += fmt::format("{}{} {:.0f}%", s.empty() ? "" : ", ", name, 100 * share);
  }
  return s;
}

std::string SourceLine(const std::string& source, long line) {
  if (line <= 0) return "";
  std::size_t at = 0;
  for (long i = 1; i < line; ++i) {
    at = source.find('\n', at);
    if (at == std::string::npos) return "";
    ++at;
  }
  std::string text = source.substr(at, source.find('\n', at) - at);
  const auto b = text.find_first_not_of(" \t");
  text = b == std::string::npos ? "" : text.substr(b);
  return text.size() > 100 ? text.substr(0, 97) + "..." : text;
}

}  // namespace

// dally_parity's static cost profile (dally::IrCostProfile::Json).
std::string IrCostText(const json& p, std::size_t n) {
  const double total = Num(p, "total");
  if (total <= 0) return "";
  auto pct = [&](double x) { return fmt::format("{:.1f}%", 100 * x / total); };
  std::string out = fmt::format("where the cost goes ({:.0f} in all):\n  by operation:", total);
  std::vector<std::pair<double, std::string>> ops;
  if (p.contains("by_op") && p["by_op"].is_object())
    for (const auto& [name, v] : p["by_op"].items())
      if (v.is_number()) ops.push_back({v.get<double>(), name});
  ops.push_back({Num(p, "outputs"), "output line"});
  std::sort(ops.rbegin(), ops.rend());
  for (std::size_t i = 0; i < ops.size() && i < n; ++i)
    if (ops[i].first > 0) out += fmt::format("{} {} {}", i ? "," : "", ops[i].second, pct(ops[i].first));
  out += "\n  by address band (reads, share of cost):";
  if (p.contains("bands") && p["bands"].is_array())
    for (const auto& b : p["bands"])
      if (b.is_object())
        out += fmt::format(" {}-{}: {:.0f}, {};", static_cast<long long>(Num(b, "from")), static_cast<long long>(Num(b, "to")),
                           Num(b, "reads"), pct(Num(b, "cost")));
  out += "\n  hottest addresses (reads, share of cost):";
  std::size_t shown = 0;
  if (p.contains("hottest") && p["hottest"].is_array())
    for (const auto& h : p["hottest"]) {
      if (shown++ >= n || !h.is_object()) break;
      out += fmt::format(" {} ({:.0f} reads, {});", static_cast<long long>(Num(h, "address")), Num(h, "reads"),
                         pct(Num(h, "cost")));
    }
  out += "\n";
  // A board task adds its order's bound: how much a better layout could win.
  if (const double bound = Num(p, "lower_bound"); bound > 0)
    out += fmt::format("  no address layout of this instruction order costs less than {:.0f} ({:.2f}% below this "
                       "program): past that, change the order of the ops, the copies or the algorithm\n",
                       bound, 100 * (total - bound) / total);
  return out;
}

std::string HotSpotsText(const std::string& components_json, const std::string& source, std::size_t n) {
  const json c = ParseOrNull(components_json);
  if (c.is_object() && c.contains("ir_profile") && c["ir_profile"].is_object()) return IrCostText(c["ir_profile"], n);
  if (!c.is_object() || !c.contains("profile") || !c["profile"].is_object()) return "";
  const json& p = c["profile"];
  std::string out = fmt::format("where the energy goes (per instance, {:.3e} J counted in all):\n", Num(p, "total_j"));
  std::size_t shown = 0;
  if (p.contains("functions") && p["functions"].is_array())
    for (const auto& f : p["functions"]) {
      if (shown++ >= n || !f.is_object()) break;
      std::string name = f.contains("name") && f["name"].is_string() ? f["name"].get<std::string>() : "?";
      if (name.size() > 120) name = name.substr(0, 117) + "...";  // C++ signatures run long
      out += fmt::format("  function {}: {:.1f}% ({})\n", name, 100 * Num(f, "share"), Split(f));
    }
  shown = 0;
  if (p.contains("lines") && p["lines"].is_array())
    for (const auto& l : p["lines"]) {
      if (shown++ >= n || !l.is_object()) break;
      const long line = static_cast<long>(Num(l, "line"));
      out += fmt::format("  line {}: {:.1f}% ({})  `{}`\n", line, 100 * Num(l, "share"), Split(l), SourceLine(source, line));
    }
  return out;
}

std::string ComponentChange(const std::string& before_json, const std::string& after_json) {
  const json a = ParseOrNull(before_json), b = ParseOrNull(after_json);
  if (!a.is_object() || !b.is_object() || !a.contains("l1_j") || !b.contains("l1_j")) return "";
  std::vector<std::pair<double, std::string>> moves;
  for (const auto& [key, name] : kComponents) {
    const double x = Num(a, key), y = Num(b, key);
    if (x <= 0) continue;
    const double change = (y - x) / x;
    moves.push_back({std::fabs(change), fmt::format("{} {:+.0f}%", name, 100 * change)});
  }
  std::stable_sort(moves.begin(), moves.end(), [](const auto& l, const auto& r) { return l.first > r.first; });
  std::string s;
  for (const auto& m : moves) s += (s.empty() ? "" : ", ") + m.second;
  return s;
}

}  // namespace ergon::evaluators
