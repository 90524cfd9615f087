// CachegrindMeter: energy of a CPU learner from simulated cache events.
//
// The learner runs under valgrind's cachegrind with a pinned cache geometry
// (never the host's), ASLR off, children traced, so the counts are the same
// on every x86-64 machine and every run. Counts become joules with per-event
// energies after Bill Dally, as the Sutro group uses them:
//   register / ALU op  5 pJ per instruction (Ir)
//   L1                20 pJ per data access (Dr + Dw), one 32-bit word
//   L2 (last level)  100 pJ per word; an L1 miss moves a 64-byte line (16
//                    words): 1,600 pJ per L1 miss (I1mr + D1mr + D1mw)
//   DRAM             640 pJ per word; a last-level miss fetches a line:
//                    10,240 pJ per LL miss (ILmr + DLmr + DLmw)
// Instruction fetches are part of the per-instruction energy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace ergon::evaluators::learning {

struct CacheGeometry {  // valgrind's size,associativity,line-size
  std::string i1 = "32768,8,64";
  std::string d1 = "65536,8,64";
  std::string ll = "262144,8,64";
};

struct EnergyModel {
  double instruction_pj = 5;
  double l1_access_pj = 20;
  double ll_line_pj = 100 * 16;
  double dram_line_pj = 640 * 16;
};

struct CacheCounts {
  std::uint64_t ir = 0, dr = 0, dw = 0;        // instructions, data reads, writes
  std::uint64_t i1mr = 0, d1mr = 0, d1mw = 0;  // L1 misses
  std::uint64_t ilmr = 0, dlmr = 0, dlmw = 0;  // last-level misses
  int processes = 0;                           // cachegrind outputs summed
  CacheCounts& operator+=(const CacheCounts& o);
};

struct EnergyBreakdown {
  double instructions_j = 0, l1_j = 0, ll_j = 0, dram_j = 0;
  double total_j() const { return instructions_j + l1_j + ll_j + dram_j; }
  // Adds one of n instances' breakdowns to a mean (each term over n, as the
  // stored means were always summed).
  void AddMean(const EnergyBreakdown& o, double n) {
    instructions_j += o.instructions_j / n;
    l1_j += o.l1_j / n;
    ll_j += o.ll_j / n;
    dram_j += o.dram_j / n;
  }
};

class CachegrindMeter {
 public:
  CachegrindMeter(CacheGeometry geometry = {}, EnergyModel model = {}) : geometry_(geometry), model_(model) {}

  // The command that runs `argv` metered, writing its outputs to out_dir.
  std::vector<std::string> Wrap(const std::vector<std::string>& argv, const std::string& out_dir) const;

  // Sums every process's counts. Fails when a traced process left no counts
  // (it was killed before it finished: its work would go unmeasured).
  tl::expected<CacheCounts, std::string> Collect(const std::string& out_dir) const;

  EnergyBreakdown Energy(const CacheCounts& c) const;
  const EnergyModel& model() const { return model_; }

 private:
  CacheGeometry geometry_;
  EnergyModel model_;
};

// valgrind's path, or an error with the apt line.
tl::expected<std::string, std::string> FindValgrind();

}  // namespace ergon::evaluators::learning
