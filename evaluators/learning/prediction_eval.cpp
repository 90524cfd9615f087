#include "evaluators/learning/prediction_eval.h"

#include <filesystem>
#include <fmt/core.h>

#include "evaluators/learning/built_learner.h"
#include "evaluators/learning/metered_run.h"
#include "evaluators/learning/parity_instance.h"
#include "base/file.h"

namespace ergon::evaluators::learning {

LearnEvalReport EvaluatePredictions(const sandbox::Sandbox& sb, const PredictionEval& q) {
  LearnEvalReport r;
  r.meter = q.meter;
  r.suite = q.suite;
  r.isolation = sb.DescribeIsolation();
  auto fail = [&](std::string stage, std::string status) {
    r.stage = std::move(stage);
    r.status = std::move(status);
    return r;
  };
  auto meter = LearnerMeter::Open(q.meter);
  if (!meter) return fail("meter", meter.error());

  auto built = BuildLearner(sb, q.source, q.cuda);
  if (!built) {
    r.compile_s = built.error().compile_s;
    r.feedback = built.error().diagnostics;
    return fail("compile", built.error().error);
  }
  r.compile_s = built->compile_s;

  const auto keys = SuiteSeeds(q.suite, q.instances);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto inst = q.draw(keys[i]);
    if (!inst) return fail("data", inst.error());
    auto work = sandbox::ScratchDir::Create(sb, "ergon-run-");
    if (!work) return fail("run", work.error());
    for (const auto& [name, bytes] : inst->files)
      if (!base::WriteFile((std::filesystem::path(work->path()) / name).string(), bytes)) return fail("run", fmt::format("cannot write {}", name));
    sandbox::RunSpec spec;
    spec.argv = {built->executable};
    spec.work_dir = work->path();
    spec.read_only_paths = {built->dir.path()};
    spec.masked_paths = q.masked_paths;
    spec.limits.wall_s = q.timeout_s;
    spec.limits.cpu_s = q.timeout_s;
    spec.limits.address_space = 8ull << 30;
    spec.limits.file_size = 64ull << 20;
    spec.limits.stdout_cap = 1 << 20;
    spec.limits.stderr_cap = 16 << 10;
    auto ran = meter->Run(sb, spec, q.cuda);
    if (!ran) return fail("run", ran.error());
    // Under the cachemodel valgrind writes to vg.<pid> files, so stderr is
    // always the learner's own.
    r.feedback = ran->run.stderr_text;
    if (!ran->run.ok())
      return fail("run", fmt::format("instance {}: the learner failed: {}", i + 1, ran->run.Describe()));
    if (!ran->meter_error.empty()) return fail("meter", fmt::format("instance {}: {}", i + 1, ran->meter_error));
    InstanceOutcome out;
    TakeMeasurement(*ran, out);
    const int rows = static_cast<int>(inst->labels.size());
    auto preds = ReadPredictedLabels(work->path() + "/predictions.txt", rows, q.classes);
    if (!preds) return fail("output", fmt::format("instance {}: {}", i + 1, preds.error()));
    int right = 0;
    for (int t = 0; t < rows; ++t)
      right += (*preds)[static_cast<std::size_t>(t)] == inst->labels[static_cast<std::size_t>(t)];
    out.accuracy = rows ? static_cast<double>(right) / rows : 0.0;
    out.ok = true;
    r.per_instance.push_back(std::move(out));
  }
  Summarise(r, q.gate);
  r.ran = true;
  return r;
}

}  // namespace ergon::evaluators::learning
