#include "evaluators/sparse_parity/harness/evaluate.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "evaluators/learning/built_learner.h"
#include "evaluators/learning/metered_run.h"
#include "evaluators/work_file.h"

namespace ergon::evaluators {
namespace {
namespace fs = std::filesystem;
using learning::ParityInstance;

// Reads predictions.txt: exactly `rows` lines of "0" or "1".
tl::expected<std::vector<std::uint8_t>, std::string> ReadPredictions(const fs::path& p, int rows) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return tl::unexpected(std::string("no predictions.txt written"));
  if (fs::file_size(p, ec) > static_cast<std::uintmax_t>(rows) * 4 + 64)
    return tl::unexpected(std::string("predictions.txt is far too large"));
  std::ifstream f(p);
  std::vector<std::uint8_t> out;
  std::string line;
  int n = 0;
  while (std::getline(f, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line != "0" && line != "1")
      return tl::unexpected(fmt::format("predictions.txt line {}: expected 0 or 1", n));
    out.push_back(static_cast<std::uint8_t>(line[0] - '0'));
  }
  if (static_cast<int>(out.size()) != rows)
    return tl::unexpected(fmt::format("predictions.txt has {} rows; the test set has {}", out.size(), rows));
  return out;
}

}  // namespace

LearnEvalReport EvaluateSparseParity(const sandbox::Sandbox& sb, const LearnEvalRequest& q) {
  LearnEvalReport r;
  r.meter = q.meter;
  r.suite = q.suite;
  r.isolation = sb.DescribeIsolation();
  auto fail = [&](std::string stage, std::string status) {
    r.stage = std::move(stage);
    r.status = std::move(status);
    return r;
  };
  auto meter = learning::LearnerMeter::Open(q.meter);
  if (!meter) return fail("meter", meter.error());

  auto built = learning::BuildLearner(sb, q.source, q.cuda);
  if (!built) {
    r.compile_s = built.error().compile_s;
    r.feedback = built.error().diagnostics;
    return fail("compile", built.error().error);
  }
  r.compile_s = built->compile_s;

  const auto seeds = learning::SuiteSeeds(q.suite, q.instances);
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    InstanceOutcome out;
    const ParityInstance inst = learning::MakeParityInstance(q.spec, seeds[i]);
    auto work = sandbox::ScratchDir::Create(sb, "ergon-run-");
    if (!work) return fail("run", work.error());
    const fs::path dir = work->path();
    if (!WriteWorkFile(work->path(), "train.txt", learning::TrainText(q.spec, inst)) ||
        !WriteWorkFile(work->path(), "test.txt", learning::TestText(q.spec, inst)))
      return fail("run", "cannot write the instance files");
    sandbox::RunSpec spec;
    spec.argv = {built->executable};
    spec.work_dir = dir.string();
    spec.read_only_paths = {built->dir.path()};
    spec.limits.wall_s = q.timeout_s;
    spec.limits.cpu_s = q.timeout_s;
    spec.limits.address_space = 8ull << 30;
    spec.limits.file_size = 64ull << 20;
    spec.limits.stdout_cap = 1 << 20;
    spec.limits.stderr_cap = 16 << 10;
    auto ran = meter->Run(sb, spec, q.cuda);
    if (!ran) return fail("run", ran.error());
    out.wall_s = ran->run.wall_s;
    out.cpu_s = ran->run.user_s + ran->run.sys_s;
    // Under the cachemodel valgrind writes to vg.<pid> files, so stderr is
    // always the learner's own.
    r.feedback = ran->run.stderr_text;
    if (!ran->run.ok())
      return fail("run", fmt::format("instance {}: the learner failed: {}", i + 1, ran->run.Describe()));
    if (!ran->meter_error.empty()) return fail("meter", fmt::format("instance {}: {}", i + 1, ran->meter_error));
    out.energy_j = ran->energy_j;
    out.counts = ran->counts;
    out.components = ran->components;
    out.profile = std::move(ran->profile);
    out.idle_w = ran->nvml.idle_w;
    out.idle_subtracted_j = ran->nvml.idle_subtracted_j;
    out.update_period_s = ran->nvml.update_period_s;
    out.window_s = ran->nvml.window_s;
    out.slack_s = ran->nvml.slack_s;
    auto preds = ReadPredictions(dir / "predictions.txt", q.spec.test_rows);
    if (!preds) return fail("output", fmt::format("instance {}: {}", i + 1, preds.error()));
    int right = 0;
    for (int t = 0; t < q.spec.test_rows; ++t) right += (*preds)[static_cast<std::size_t>(t)] == inst.test_y[static_cast<std::size_t>(t)];
    out.accuracy = static_cast<double>(right) / q.spec.test_rows;
    out.ok = true;
    r.per_instance.push_back(out);
  }
  const double n = static_cast<double>(r.per_instance.size());
  double energy = 0;
  for (const auto& o : r.per_instance) {
    r.accuracy += o.accuracy / n;
    r.wall_s += o.wall_s / n;
    r.cpu_s += o.cpu_s / n;
    if (o.energy_j) energy += *o.energy_j / n;
    r.components.AddMean(o.components, n);
    r.profile.AddMean(o.profile, n);
    r.counts += o.counts;
  }
  if (q.meter != "wall") r.energy_j = energy;
  r.gate_passed = r.accuracy >= q.gate;
  r.ran = true;
  return r;
}

std::string LearnReportJson(const LearnEvalReport& r) {
  nlohmann::json j;
  j["status"] = r.ran ? "ok" : r.status;
  j["stage"] = r.stage;
  j["task"] = "sparse_parity";
  j["meter"] = r.meter;
  j["suite"] = r.suite;
  j["accuracy"] = r.accuracy;
  j["gate_passed"] = r.gate_passed;
  j["energy_j"] = r.energy_j ? nlohmann::json(*r.energy_j) : nlohmann::json(nullptr);
  j["wall_s"] = r.wall_s;
  j["cpu_s"] = r.cpu_s;
  j["instances"] = r.per_instance.size();
  j["compile_s"] = r.compile_s;
  if (r.meter == "cachemodel") {
    j["components"] = {{"instructions_j", r.components.instructions_j},
                       {"l1_j", r.components.l1_j},
                       {"ll_j", r.components.ll_j},
                       {"dram_j", r.components.dram_j}};
    j["counts"] = {{"Ir", r.counts.ir},     {"Dr", r.counts.dr},     {"Dw", r.counts.dw},
                   {"I1mr", r.counts.i1mr}, {"D1mr", r.counts.d1mr}, {"D1mw", r.counts.d1mw},
                   {"ILmr", r.counts.ilmr}, {"DLmr", r.counts.dlmr}, {"DLmw", r.counts.dlmw},
                   {"processes", r.counts.processes}};
  }
  nlohmann::json per = nlohmann::json::array();
  for (const auto& o : r.per_instance) {
    nlohmann::json e = {{"accuracy", o.accuracy}, {"wall_s", o.wall_s}, {"cpu_s", o.cpu_s}};
    e["energy_j"] = o.energy_j ? nlohmann::json(*o.energy_j) : nlohmann::json(nullptr);
    if (r.meter == "nvml") {
      e["idle_w"] = o.idle_w;
      e["idle_subtracted_j"] = o.idle_subtracted_j;
      e["update_period_s"] = o.update_period_s;
      e["window_s"] = o.window_s;
      e["slack_s"] = o.slack_s;
    }
    per.push_back(e);
  }
  j["per_instance"] = per;
  j["feedback"] = r.feedback.substr(0, 4096);
  j["isolation"] = r.isolation;
  return j.dump();
}

}  // namespace ergon::evaluators
