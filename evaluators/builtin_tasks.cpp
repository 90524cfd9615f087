// The two built-in tasks behind the Task interface: thin adapters from the
// generic request and Measurement to their harnesses.
#include "evaluators/builtin_tasks.h"

#include <cmath>

#include <fmt/core.h>

#include "evaluators/dally_parity_task.h"
#include "evaluators/dally_parity_transform.h"
#include "evaluators/sparse_parity_task.h"
#include "evaluators/versions.h"

namespace ergon::evaluators {
namespace {

int Param(const TaskSpec& s, const char* name, int fallback) {
  auto it = s.params.find(name);
  return it == s.params.end() ? fallback : static_cast<int>(it->second);
}

// The fields every built-in report shares, as a Measurement.
template <class Report>
Measurement Outline(const Report& r, std::string version, const std::string& meter, std::string json) {
  Measurement m;
  m.ran = r.ran;
  m.stage = r.stage;
  m.error = r.ran ? "" : r.status;
  m.feedback = r.feedback;
  m.evaluator_version = std::move(version);
  m.meter = meter;
  m.device = DeviceFor(meter);
  m.suite = r.suite;
  m.json = std::move(json);
  return m;
}

class DallyParityTask : public Task {
 public:
  using Task::Task;
  std::string Version() const override { return kDallyParityVersion; }

  // The dally meter only; any suite key (dev, fresh, or a deterministic KEY).
  std::string CheckRequest(const TaskEvalRequest& q) const override {
    if (!q.meter.empty() && q.meter != "dally")
      return fmt::format("task {} is measured by the dally meter only (got --meter {})", spec().name, q.meter);
    return {};
  }

  Measurement Evaluate(const sandbox::Sandbox& sb, const TaskEvalRequest& q) const override {
    DallyEvalRequest d;
    d.source = q.source;
    d.suite = q.suite;
    d.instances = q.instances;
    d.generator_wall_s = q.timeout_s > 0 ? q.timeout_s : spec().timeout_s;
    d.generator_cpu_s = d.generator_wall_s;
    d.suites_dir = spec().dir + "/suites";
    const DallyEvalReport r = EvaluateDallyParity(sb, d);
    Measurement m = Outline(r, Version(), "dally", DallyReportJson(r));
    if (r.ran) {
      m.metrics = {{"cost", static_cast<double>(r.cost)}, {"recovery", r.recovery}, {"wall_s", r.wall_s}};
      m.components = fmt::format("{{\"lines\":{},\"instances\":{},\"correct\":{}}}", r.lines, r.instances, r.correct);
      m.cell = fmt::format("lines:2^{}", r.lines ? static_cast<int>(std::log2(static_cast<double>(r.lines))) : 0);
      m.text = fmt::format(
          "cost {}  recovery {:.6f} ({}/{})  lines {}  suite {}  generator {:.2f} s wall, {:.2f} s cpu  compile {:.2f} s  "
          "score {:.1f} ms",
          r.cost, r.recovery, r.correct, r.instances, r.lines, r.suite, r.wall_s, r.cpu_s, r.compile_s, r.score_s * 1e3);
    }
    Judge(m);
    return m;
  }

  SourceTransform MakeTransform(const sandbox::Sandbox* sb) const override { return DallyLayoutTransform(sb); }
  std::optional<std::string> OriginOf(const std::string& source) const override { return DallyOriginOf(source); }

  std::map<std::string, std::string> ExportFiles(const std::string& source, const std::string& language) const override {
    auto files = Task::ExportFiles(source, language);
    files["RUN.txt"] =
        "./candidate > program.ir prints the IR program; score it with the Sutro group's scorer or\n"
        "ergon score program.ir --tier mask32 --suite dev\n";
    return files;
  }
};

class SparseParityTask : public Task {
 public:
  using Task::Task;
  std::string Version() const override { return kSparseParityVersion; }

  Measurement Evaluate(const sandbox::Sandbox& sb, const TaskEvalRequest& q) const override {
    LearnEvalRequest l;
    l.source = q.source;
    l.cuda = (q.language.empty() ? spec().language : q.language) == "cuda";
    l.meter = q.meter.empty() ? spec().meter : q.meter;
    l.suite = q.suite;
    l.instances = q.instances ? static_cast<int>(q.instances) : spec().instances;
    l.timeout_s = q.timeout_s > 0 ? q.timeout_s : spec().timeout_s;
    l.spec.n = Param(spec(), "n", l.spec.n);
    l.spec.k = Param(spec(), "k", l.spec.k);
    l.spec.train_rows = Param(spec(), "train_rows", l.spec.train_rows);
    l.spec.test_rows = Param(spec(), "test_rows", l.spec.test_rows);
    l.gate = spec().gate_min;
    const LearnEvalReport r = EvaluateSparseParity(sb, l);
    Measurement m = Outline(r, Version(), r.meter, LearnReportJson(r));
    if (r.ran) {
      m.metrics = {{"accuracy", r.accuracy}, {"wall_s", r.wall_s}, {"cpu_s", r.cpu_s}};
      if (r.energy_j) m.metrics["energy_j"] = *r.energy_j;
      m.components =
          r.meter == "cachemodel"
              ? fmt::format("{{\"instances\":{},\"instructions_j\":{:.17g},\"l1_j\":{:.17g},\"ll_j\":{:.17g},"
                            "\"dram_j\":{:.17g},\"Ir\":{}}}",
                            r.per_instance.size(), r.components.instructions_j, r.components.l1_j, r.components.ll_j,
                            r.components.dram_j, r.counts.ir)
              : fmt::format("{{\"instances\":{}}}", r.per_instance.size());
      m.cell = fmt::format("acc:{}|cpu:2^{}", static_cast<int>(r.accuracy * 20),
                           static_cast<int>(std::floor(std::log2(std::max(r.cpu_s, 1e-4) * 1e3))));
      m.text = fmt::format("accuracy {:.4f} ({})  energy {}  wall {:.2f} s  cpu {:.2f} s per instance  meter {}  suite {}",
                           r.accuracy, r.gate_passed ? "gate passed" : "gate FAILED",
                           r.energy_j ? fmt::format("{:.6e} J per instance", *r.energy_j)
                                      : std::string("not measured (wall meter)"),
                           r.wall_s, r.cpu_s, r.meter, r.suite);
      if (r.meter == "cachemodel")
        m.text += fmt::format(
            "\n  components per instance: instructions {:.3e} J, L1 {:.3e} J, LL {:.3e} J, DRAM {:.3e} J",
            r.components.instructions_j, r.components.l1_j, r.components.ll_j, r.components.dram_j);
    }
    Judge(m);
    return m;
  }
};

}  // namespace

std::unique_ptr<Task> MakeBuiltinTask(const TaskSpec& spec) {
  if (spec.name == "dally_parity") return std::make_unique<DallyParityTask>(spec);
  if (spec.name == "sparse_parity") return std::make_unique<SparseParityTask>(spec);
  return nullptr;
}

}  // namespace ergon::evaluators
