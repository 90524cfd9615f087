#include "evaluators/dally/tiers.h"

#include <algorithm>

#include <fmt/core.h>

#include "evaluators/dally/python_random.h"

namespace ergon::evaluators::dally {
namespace {

// Number of k-subsets of the n columns that reproduce every training label.
int Explaining(const TierSpec& t, const std::vector<std::int8_t>& x, const std::vector<std::int8_t>& y) {
  int count = 0;
  std::vector<int> idx(static_cast<std::size_t>(t.k_secret));
  for (int i = 0; i < t.k_secret; ++i) idx[static_cast<std::size_t>(i)] = i;
  for (;;) {
    bool ok = true;
    for (int r = 0; r < t.m_train && ok; ++r) {
      int p = 0;
      for (int c : idx) p ^= x[static_cast<std::size_t>(r * t.n_bits + c)];
      ok = p == y[static_cast<std::size_t>(r)];
    }
    count += ok;
    int i = t.k_secret - 1;
    while (i >= 0 && idx[static_cast<std::size_t>(i)] == t.n_bits - t.k_secret + i) --i;
    if (i < 0) break;
    ++idx[static_cast<std::size_t>(i)];
    for (int j = i + 1; j < t.k_secret; ++j) idx[static_cast<std::size_t>(j)] = idx[static_cast<std::size_t>(j - 1)] + 1;
  }
  return count;
}

}  // namespace

TierInstance GenerateTierInstance(const TierSpec& t, std::uint64_t seed) {
  PythonRandom rng = PythonRandom::FromUint64(seed);
  TierInstance inst;
  inst.secret = rng.SampleRange(t.n_bits, t.k_secret);
  std::sort(inst.secret.begin(), inst.secret.end());
  auto parity = [&](const std::vector<std::int8_t>& x, int r) {
    int p = 0;
    for (int c : inst.secret) p ^= x[static_cast<std::size_t>(r * t.n_bits + c)];
    return static_cast<std::int8_t>(p);
  };
  std::vector<std::int8_t> x(static_cast<std::size_t>(t.n_bits * t.m_train)), y(static_cast<std::size_t>(t.m_train));
  do {
    for (auto& v : x) v = static_cast<std::int8_t>(rng.RandBelow(2));  // choice((0, 1))
    for (int r = 0; r < t.m_train; ++r) y[static_cast<std::size_t>(r)] = parity(x, r);
  } while (Explaining(t, x, y) != 1);
  std::vector<std::int8_t> xt(static_cast<std::size_t>(t.n_bits * t.m_test));
  for (auto& v : xt) v = static_cast<std::int8_t>(rng.RandBelow(2));
  inst.inputs = x;
  inst.inputs.insert(inst.inputs.end(), y.begin(), y.end());
  inst.inputs.insert(inst.inputs.end(), xt.begin(), xt.end());
  for (int r = 0; r < t.m_test; ++r) inst.y_test.push_back(parity(xt, r));
  return inst;
}

tl::expected<TierScore, IrError> ScoreTier(const IrProgram& p, const TierSpec& t,
                                           const std::vector<TierInstance>& instances) {
  if (p.input_slots.size() != static_cast<std::size_t>(t.inputs()))
    return tl::unexpected(IrError{IrError::Kind::kArity, 0,
                                  fmt::format("IR declares {} inputs; {} required", p.input_slots.size(), t.inputs())});
  if (p.output_slots.size() != static_cast<std::size_t>(t.m_test))
    return tl::unexpected(IrError{IrError::Kind::kArity, 0, "output count mismatch"});
  std::vector<std::int8_t> batch;
  for (const auto& inst : instances) batch.insert(batch.end(), inst.inputs.begin(), inst.inputs.end());
  auto out = SimulateBatch(p, batch, instances.size());
  if (!out) return tl::unexpected(out.error());
  TierScore sc;
  sc.cost = p.cost;
  sc.lines = p.lines;
  sc.instances = instances.size();
  double acc = 0;
  for (std::size_t i = 0; i < instances.size(); ++i) {
    std::size_t right = 0;
    for (int r = 0; r < t.m_test; ++r)
      right += (*out)[i * static_cast<std::size_t>(t.m_test) + static_cast<std::size_t>(r)] == instances[i].y_test[static_cast<std::size_t>(r)];
    acc += static_cast<double>(right) / t.m_test;
    sc.exact += right == static_cast<std::size_t>(t.m_test);
  }
  sc.accuracy = instances.empty() ? 0 : acc / static_cast<double>(instances.size());
  return sc;
}

}  // namespace ergon::evaluators::dally
