// IrCostProfile::Json: the profile CompileIr gathered, summarised.
#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "evaluators/dally/ir.h"

namespace ergon::evaluators::dally {

std::string IrCostProfile::Json(std::size_t top) const {
  static constexpr const char* kNames[] = {"set", "copy", "not", "abs", "add", "sub", "mul",
                                           "div", "and",  "or",  "xor", "cmp", "select"};
  nlohmann::json j;
  std::uint64_t total = outputs;
  j["by_op"] = nlohmann::json::object();
  for (int i = 0; i < 13; ++i)
    if (by_op[i]) {
      j["by_op"][kNames[i]] = by_op[i];
      total += by_op[i];
    }
  j["outputs"] = outputs;
  j["total"] = total;
  // Every read address with its reads, ascending.
  std::map<std::uint64_t, std::uint64_t> far;
  for (const auto& [a, n] : sparse) far[a] += n;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> all;
  for (std::uint64_t a = 1; a < reads.size(); ++a)
    if (reads[a]) all.emplace_back(a, reads[a]);
  all.insert(all.end(), far.begin(), far.end());
  j["bands"] = nlohmann::json::array();
  std::uint64_t from = 1, to = 4, band_reads = 0, band_cost = 0;
  auto close = [&] {
    if (band_reads) j["bands"].push_back({{"from", from}, {"to", to}, {"reads", band_reads}, {"cost", band_cost}});
    band_reads = band_cost = 0;
  };
  for (const auto& [a, n] : all) {
    while (a > to) {
      close();
      from = to + 1;
      to *= 4;
    }
    band_reads += n;
    band_cost += n * ReadCost(a);
  }
  close();
  std::vector<std::pair<std::uint64_t, std::uint64_t>> hot = all;  // (address, reads)
  std::sort(hot.begin(), hot.end(), [](const auto& x, const auto& y) {
    const auto cx = x.second * ReadCost(x.first), cy = y.second * ReadCost(y.first);
    return cx != cy ? cx > cy : x.first < y.first;
  });
  if (hot.size() > top) hot.resize(top);
  j["hottest"] = nlohmann::json::array();
  for (const auto& [a, n] : hot) j["hottest"].push_back({{"address", a}, {"reads", n}, {"cost", n * ReadCost(a)}});
  return j.dump();
}

}  // namespace ergon::evaluators::dally
