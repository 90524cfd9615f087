#include "evaluators/learning/cachegrind_meter.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unistd.h>

#include <fmt/core.h>

namespace ergon::evaluators::learning {
namespace fs = std::filesystem;

CacheCounts& CacheCounts::operator+=(const CacheCounts& o) {
  ir += o.ir; dr += o.dr; dw += o.dw;
  i1mr += o.i1mr; d1mr += o.d1mr; d1mw += o.d1mw;
  ilmr += o.ilmr; dlmr += o.dlmr; dlmw += o.dlmw;
  processes += o.processes;
  return *this;
}

tl::expected<std::string, std::string> FindValgrind() {
  for (const char* p : {"/usr/bin/valgrind", "/usr/local/bin/valgrind"})
    if (::access(p, X_OK) == 0) return std::string(p);
  return tl::unexpected(std::string("valgrind not found: apt-get install valgrind"));
}

std::vector<std::string> CachegrindMeter::Wrap(const std::vector<std::string>& argv, const std::string& out_dir) const {
  std::vector<std::string> a = {"/usr/bin/setarch", "-R", FindValgrind().value_or("valgrind"),
                                "--tool=cachegrind", "--cache-sim=yes", "--trace-children=yes",
                                "--I1=" + geometry_.i1, "--D1=" + geometry_.d1, "--LL=" + geometry_.ll,
                                "--cachegrind-out-file=" + out_dir + "/cg.%p", "--log-file=" + out_dir + "/vg.%p"};
  a.insert(a.end(), argv.begin(), argv.end());
  return a;
}

namespace {

// Reads the "events:" header and "summary:" totals of one output file.
tl::expected<CacheCounts, std::string> ParseOne(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::vector<std::string> events;
  std::vector<std::uint64_t> totals;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string head;
    s >> head;
    if (head == "events:") {
      std::string e;
      while (s >> e) events.push_back(e);
    } else if (head == "summary:") {
      std::uint64_t v;
      while (s >> v) totals.push_back(v);
    }
  }
  if (events.empty() || totals.size() != events.size())
    return tl::unexpected(fmt::format("{}: no events/summary lines (not a cachegrind output)", p.string()));
  std::map<std::string, std::uint64_t> m;
  for (std::size_t i = 0; i < events.size(); ++i) m[events[i]] = totals[i];
  for (const char* need : {"Ir", "Dr", "Dw", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw"})
    if (!m.count(need)) return tl::unexpected(fmt::format("{}: event {} missing (cache simulation off?)", p.string(), need));
  CacheCounts c;
  c.ir = m["Ir"]; c.dr = m["Dr"]; c.dw = m["Dw"];
  c.i1mr = m["I1mr"]; c.d1mr = m["D1mr"]; c.d1mw = m["D1mw"];
  c.ilmr = m["ILmr"]; c.dlmr = m["DLmr"]; c.dlmw = m["DLmw"];
  c.processes = 1;
  return c;
}

}  // namespace

tl::expected<CacheCounts, std::string> CachegrindMeter::Collect(const std::string& out_dir) const {
  std::set<std::string> logs, outs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(out_dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("vg.", 0) == 0) logs.insert(name.substr(3));
    if (name.rfind("cg.", 0) == 0) outs.insert(name.substr(3));
  }
  if (ec) return tl::unexpected(fmt::format("{}: {}", out_dir, ec.message()));
  if (logs.empty()) return tl::unexpected(std::string("the meter produced no output (valgrind did not start)"));
  for (const auto& pid : logs)
    if (!outs.count(pid))
      return tl::unexpected(fmt::format(
          "process {} of the learner was killed before it finished, so its work is unmeasured; a learner must "
          "wait for the children it starts", pid));
  CacheCounts total;
  for (const auto& pid : outs) {
    auto c = ParseOne(fs::path(out_dir) / ("cg." + pid));
    if (!c) return tl::unexpected(c.error());
    total += *c;
  }
  return total;
}

EnergyBreakdown CachegrindMeter::Energy(const CacheCounts& c) const {
  EnergyBreakdown e;
  const double pj = 1e-12;
  e.instructions_j = static_cast<double>(c.ir) * model_.instruction_pj * pj;
  e.l1_j = static_cast<double>(c.dr + c.dw) * model_.l1_access_pj * pj;
  e.ll_j = static_cast<double>(c.i1mr + c.d1mr + c.d1mw) * model_.ll_line_pj * pj;
  e.dram_j = static_cast<double>(c.ilmr + c.dlmr + c.dlmw) * model_.dram_line_pj * pj;
  return e;
}

}  // namespace ergon::evaluators::learning
