// The two built-in tasks behind the Task interface: thin adapters from the
// generic request and Measurement to their harnesses.
#include "evaluators/builtin_tasks.h"

#include <cmath>
#include <mutex>

#include <fmt/core.h>

#include "evaluators/char_lm_task.h"
#include "evaluators/dally_board/board_task.h"
#include "evaluators/dally_parity_submission.h"
#include "evaluators/dally/tool_process.h"
#include "evaluators/dally_parity_task.h"
#include "evaluators/dally_parity_transform.h"
#include "evaluators/dally/ir.h"
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
    d.suites_dir = spec().dally_suites;
    d.scorer = dally::ErgonBesideThisProgram();
    d.memo = &printed_;
    const DallyEvalReport r = EvaluateDallyParity(sb, d);
    Measurement m = Outline(r, Version(), "dally", DallyReportJson(r));
    if (r.ran) {
      m.metrics = {{"cost", static_cast<double>(r.cost)}, {"recovery", r.recovery}, {"wall_s", r.wall_s}};
      m.components = fmt::format("{{\"lines\":{},\"instances\":{},\"correct\":{},\"ir_profile\":{}}}", r.lines,
                                 r.instances, r.correct, r.profile.empty() ? "null" : r.profile);
      m.cell = fmt::format("lines:2^{}", r.lines ? static_cast<int>(std::log2(static_cast<double>(r.lines))) : 0);
      m.text = fmt::format(
          "cost {}  recovery {:.6f} ({}/{})  lines {}  suite {}  generator {:.2f} s wall, {:.2f} s cpu  {}  "
          "score {:.1f} ms",
          r.cost, r.recovery, r.correct, r.instances, r.lines, r.suite, r.wall_s, r.cpu_s,
          r.remembered ? std::string("output remembered") : fmt::format("compile {:.2f} s", r.compile_s),
          r.score_s * 1e3);
    }
    Judge(m);
    return m;
  }

  std::string AgentFacts(const std::string& /*meter*/) const override {
    return fmt::format(
        "How it is built: g++ -O1 -std=c++20 generator.cpp (one file, the standard library only). The generator "
        "runs in a sandbox (no network, at most {:g} s and 2 GiB) and prints the IR on stdout; the IR may have at most "
        "{} lines. It is then simulated on the 1,024 instances of the dev suite (a new best is checked again on 2,048 "
        "fresh instances).\n"
        "Cost model (dally, v3 ISA): the cost is the sum over every read of ceil(sqrt(address)): reading address 1 "
        "costs 1, address 100 costs 10, address 10,000 costs 100. Writes and arithmetic are free. So put the values "
        "read most often at the lowest addresses, reuse addresses whose values are dead, and read each input as "
        "few times as possible.\n",
        spec().timeout_s, dally::kMask32LineCap);
  }

  SourceTransform MakeTransform(const sandbox::Sandbox* sb) const override { return DallyLayoutTransform(sb, &printed_); }
  std::optional<std::string> OriginOf(const std::string& source) const override { return DallyOriginOf(source); }

  std::map<std::string, std::string> ExportFiles(const std::string& source, const std::string& language) const override {
    auto files = Task::ExportFiles(source, language);
    files["RUN.txt"] =
        "./candidate > program.ir prints the IR program; score it with the Sutro group's scorer or\n"
        "ergon score program.ir --tier mask32 --suite dev\n";
    return files;
  }

  bool HasSubmissionKit() const override { return true; }
  tl::expected<std::map<std::string, std::string>, std::string> SubmissionFiles(
      const sandbox::Sandbox& sb, const std::string& source, const SubmissionAbout& about) const override {
    DallySubmissionRequest q;
    q.generator = source;
    q.generator_file = about.generator_file;
    q.suites_dir = spec().dally_suites;
    q.band = spec().gate_min;
    q.title = about.title;
    q.method = about.method;
    q.lineage = about.lineage;
    q.date = about.date;
    return DallySubmission(sb, q);
  }

 private:
  // What this run's generators printed, so a new best's fresh-suite check and
  // the transformation of a parent do not build and run it again. A typical
  // entry is a 10 MB source and its 10 MB output.
  mutable PrintedPrograms printed_{256u << 20};
};

// Learners' energy and accuracy, for tasks that run them under a LearnerMeter.
std::string LearnerComponents(const std::string& meter, std::size_t instances, const learning::EnergyBreakdown& c,
                              const learning::CacheCounts& counts, const learning::EnergyProfile& profile) {
  if (meter != "cachemodel") return fmt::format("{{\"instances\":{}}}", instances);
  // The profile's top 8 functions and lines: enough for a prompt, a few
  // hundred bytes in the row.
  return fmt::format("{{\"instances\":{},\"instructions_j\":{:.17g},\"l1_j\":{:.17g},\"ll_j\":{:.17g},"
                     "\"dram_j\":{:.17g},\"Ir\":{},\"profile\":{}}}",
                     instances, c.instructions_j, c.l1_j, c.ll_j, c.dram_j, counts.ir, profile.TopJson(8));
}

// The cachemodel's breakdown, as the second line of a learner's text.
std::string ComponentsLine(const learning::EnergyBreakdown& c) {
  return fmt::format("\n  components per instance: instructions {:.3e} J, L1 {:.3e} J, LL {:.3e} J, DRAM {:.3e} J",
                     c.instructions_j, c.l1_j, c.ll_j, c.dram_j);
}

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
      m.components = LearnerComponents(r.meter, r.per_instance.size(), r.components, r.counts, r.profile);
      m.cell = fmt::format("acc:{}|cpu:2^{}", static_cast<int>(r.accuracy * 20),
                           static_cast<int>(std::floor(std::log2(std::max(r.cpu_s, 1e-4) * 1e3))));
      m.text = fmt::format("accuracy {:.4f} ({})  energy {}  wall {:.2f} s  cpu {:.2f} s per instance  meter {}  suite {}",
                           r.accuracy, r.gate_passed ? "gate passed" : "gate FAILED",
                           r.energy_j ? fmt::format("{:.6e} J per instance", *r.energy_j)
                                      : std::string("not measured (wall meter)"),
                           r.wall_s, r.cpu_s, r.meter, r.suite);
      if (r.meter == "cachemodel")
        m.text += ComponentsLine(r.components);
    }
    Judge(m);
    return m;
  }
};

class CharLmTask : public Task {
 public:
  using Task::Task;

  // The corpus is part of the version: another package release, other numbers.
  std::string Version() const override {
    std::call_once(version_once_, [&] {
      version_ = fmt::format("{} corpus {}", kCharLmVersion, CharLmCorpusDigest(learning::kFortunesDir));
    });
    return version_;
  }

  Measurement Evaluate(const sandbox::Sandbox& sb, const TaskEvalRequest& q) const override {
    CharLmRequest c;
    c.source = q.source;
    c.cuda = (q.language.empty() ? spec().language : q.language) == "cuda";
    c.meter = q.meter.empty() ? spec().meter : q.meter;
    c.suite = q.suite;
    c.instances = q.instances ? static_cast<int>(q.instances) : spec().instances;
    c.timeout_s = q.timeout_s > 0 ? q.timeout_s : spec().timeout_s;
    c.train_bytes = static_cast<std::size_t>(Param(spec(), "train_bytes", static_cast<int>(c.train_bytes)));
    c.validation_chars =
        static_cast<std::size_t>(Param(spec(), "validation_chars", static_cast<int>(c.validation_chars)));
    const CharLmReport r = EvaluateCharLm(sb, c);
    Measurement m = Outline(r, Version(), r.meter, CharLmReportJson(r));
    if (r.ran) {
      std::size_t predicted = 0, chars = 0, cut = 0;
      for (const auto& o : r.per_instance) {
        predicted += o.predicted;
        chars += o.validation_chars;
        cut += o.cut_off;
      }
      m.metrics = {{"accuracy", r.accuracy}, {"wall_s", r.wall_s}, {"cpu_s", r.cpu_s}};
      if (r.energy_j) m.metrics["energy_j"] = *r.energy_j;
      m.components = LearnerComponents(r.meter, r.per_instance.size(), r.components, r.counts, r.profile);
      m.cell = fmt::format("acc:{}|cpu:2^{}", static_cast<int>(r.accuracy * 50),
                           static_cast<int>(std::floor(std::log2(std::max(r.cpu_s, 1e-4) * 1e3))));
      m.text = fmt::format("accuracy {:.4f} ({}; {} of {} characters predicted{})  energy {}  wall {:.2f} s  "
                           "cpu {:.2f} s per instance  meter {}  suite {}",
                           r.accuracy, r.accuracy >= spec().gate_min ? "gate passed" : "gate FAILED", predicted, chars,
                           cut ? fmt::format(", {} instance(s) CUT OFF at the time limit", cut) : "",
                           r.energy_j ? fmt::format("{:.6e} J per instance", *r.energy_j)
                                      : std::string(r.meter == "wall" ? "not measured (wall meter)" : "unknown (cut off)"),
                           r.wall_s, r.cpu_s, r.meter, r.suite);
      if (r.meter == "cachemodel" && r.energy_j)
        m.text += ComponentsLine(r.components);
    }
    Judge(m);
    return m;
  }

  std::map<std::string, std::string> ExportFiles(const std::string& source, const std::string& language) const override {
    auto files = Task::ExportFiles(source, language);
    files["RUN.txt"] =
        "The learner talks to a referee: train.txt in its folder, then \"N\\n\" on stdin, and N times one predicted\n"
        "byte out, one true byte in. Score it as ergon does:\n"
        "ergon eval --task char_lm candidate." + std::string(language == "cuda" ? "cu" : "cpp") + " --suite fresh\n";
    return files;
  }

 private:
  mutable std::once_flag version_once_;
  mutable std::string version_;
};

}  // namespace

std::unique_ptr<Task> MakeBuiltinTask(const TaskSpec& spec) {
  // Dally tasks by what their candidate is: an IR program checked against
  // its board, or a MASK32 generator scored on its suites at its gate.
  if (spec.language == "ir") return MakeDallyBoardTask(spec);
  if (spec.language == "ir-generator") return std::make_unique<DallyParityTask>(spec);
  if (spec.name == "sparse_parity") return std::make_unique<SparseParityTask>(spec);
  if (spec.name == "char_lm") return std::make_unique<CharLmTask>(spec);
  return nullptr;
}

}  // namespace ergon::evaluators
