#include "evaluators/dally_parity/harness/task.h"

#include <cmath>

#include <fmt/core.h>

#include "evaluators/dally/ir.h"
#include "evaluators/dally_parity/harness/evaluate.h"
#include "evaluators/dally_parity/harness/submission.h"
#include "evaluators/dally_parity/harness/transform.h"
#include "evaluators/harness_parts.h"
#include "evaluators/versions.h"

namespace ergon::evaluators {
namespace {

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
  std::string TransformIdea() const override { return "generator output laid out by optimize-ir"; }
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

}  // namespace

std::unique_ptr<Task> MakeDallyParityTask(const TaskSpec& spec) { return std::make_unique<DallyParityTask>(spec); }

}  // namespace ergon::evaluators
