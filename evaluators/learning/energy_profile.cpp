#include "evaluators/learning/energy_profile.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace ergon::evaluators::learning {
namespace fs = std::filesystem;

namespace {

void Plus(EnergyBreakdown& a, const EnergyBreakdown& b) {
  a.instructions_j += b.instructions_j;
  a.l1_j += b.l1_j;
  a.ll_j += b.ll_j;
  a.dram_j += b.dram_j;
}

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Column of each event in a cost line ("events:" header order), -1 if absent.
struct Columns {
  int ir = -1, dr = -1, dw = -1, i1mr = -1, d1mr = -1, d1mw = -1, ilmr = -1, dlmr = -1, dlmw = -1;
};

Columns ReadColumns(std::istringstream& s) {
  Columns c;
  std::string e;
  for (int i = 0; s >> e; ++i) {
    if (e == "Ir") c.ir = i;
    else if (e == "Dr") c.dr = i;
    else if (e == "Dw") c.dw = i;
    else if (e == "I1mr") c.i1mr = i;
    else if (e == "D1mr") c.d1mr = i;
    else if (e == "D1mw") c.d1mw = i;
    else if (e == "ILmr") c.ilmr = i;
    else if (e == "DLmr") c.dlmr = i;
    else if (e == "DLmw") c.dlmw = i;
  }
  return c;
}

// One cost line "LINE c0 c1 ..." priced; missing trailing counts are zero
// (cachegrind's format allows them to be left off).
EnergyBreakdown Price(const std::vector<std::uint64_t>& v, const Columns& c, const EnergyModel& m) {
  auto at = [&](int i) { return i >= 0 && static_cast<std::size_t>(i) < v.size() ? static_cast<double>(v[i]) : 0.0; };
  const double pj = 1e-12;
  EnergyBreakdown e;
  e.instructions_j = at(c.ir) * m.instruction_pj * pj;
  e.l1_j = (at(c.dr) + at(c.dw)) * m.l1_access_pj * pj;
  e.ll_j = (at(c.i1mr) + at(c.d1mr) + at(c.d1mw)) * m.ll_line_pj * pj;
  e.dram_j = (at(c.ilmr) + at(c.dlmr) + at(c.dlmw)) * m.dram_line_pj * pj;
  return e;
}

tl::expected<void, std::string> ReadOne(const fs::path& p, const EnergyModel& model, const std::string& own_file,
                                        EnergyProfile& out) {
  std::ifstream in(p);
  if (!in) return tl::unexpected(fmt::format("{}: cannot read", p.string()));
  std::string line, file, function;
  Columns cols;
  bool have_events = false;
  std::vector<std::uint64_t> v;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] >= '0' && line[0] <= '9') {
      if (!have_events) return tl::unexpected(fmt::format("{}: a cost line before the events: line", p.string()));
      std::istringstream s(line);
      long lineno = 0;
      s >> lineno;
      v.clear();
      std::uint64_t x;
      while (s >> x) v.push_back(x);
      const EnergyBreakdown e = Price(v, cols, model);
      out.total_j += e.total_j();
      Plus(out.by_function[function.empty() ? "???" : function], e);
      if (!own_file.empty() && EndsWith(file, own_file)) Plus(out.by_line[static_cast<int>(lineno)], e);
    } else if (line.rfind("fl=", 0) == 0) {
      file = line.substr(3);
    } else if (line.rfind("fn=", 0) == 0) {
      function = line.substr(3);
    } else if (line.rfind("events:", 0) == 0) {
      std::istringstream s(line.substr(7));
      cols = ReadColumns(s);
      have_events = true;
    }
  }
  return {};
}

template <class Key>
std::vector<std::pair<Key, EnergyBreakdown>> Hottest(const std::map<Key, EnergyBreakdown>& m, std::size_t n) {
  std::vector<std::pair<Key, EnergyBreakdown>> v(m.begin(), m.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    if (a.second.total_j() != b.second.total_j()) return a.second.total_j() > b.second.total_j();
    return a.first < b.first;  // ties in a fixed order: the profile is deterministic
  });
  if (v.size() > n) v.resize(n);
  return v;
}

nlohmann::json Entry(const EnergyBreakdown& e, double total) {
  return {{"j", e.total_j()},
          {"share", total > 0 ? e.total_j() / total : 0.0},
          {"instructions_j", e.instructions_j},
          {"l1_j", e.l1_j},
          {"ll_j", e.ll_j},
          {"dram_j", e.dram_j}};
}

}  // namespace

void EnergyProfile::AddMean(const EnergyProfile& o, double n) {
  for (const auto& [k, e] : o.by_function) by_function[k].AddMean(e, n);
  for (const auto& [k, e] : o.by_line) by_line[k].AddMean(e, n);
  total_j += o.total_j / n;
}

std::string EnergyProfile::TopJson(std::size_t n) const {
  nlohmann::json j;
  j["total_j"] = total_j;
  j["functions"] = nlohmann::json::array();
  for (const auto& [name, e] : Hottest(by_function, n)) {
    auto x = Entry(e, total_j);
    x["name"] = name;
    j["functions"].push_back(std::move(x));
  }
  j["lines"] = nlohmann::json::array();
  for (const auto& [lineno, e] : Hottest(by_line, n)) {
    auto x = Entry(e, total_j);
    x["line"] = lineno;
    j["lines"].push_back(std::move(x));
  }
  return j.dump();
}

tl::expected<EnergyProfile, std::string> ReadEnergyProfile(const std::string& out_dir, const EnergyModel& model,
                                                           const std::string& own_file) {
  EnergyProfile p;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(out_dir, ec))
    if (e.path().filename().string().rfind("cg.", 0) == 0) files.push_back(e.path());
  if (ec) return tl::unexpected(fmt::format("{}: {}", out_dir, ec.message()));
  std::sort(files.begin(), files.end());
  for (const auto& f : files)
    if (auto r = ReadOne(f, model, own_file, p); !r) return tl::unexpected(r.error());
  return p;
}

}  // namespace ergon::evaluators::learning
