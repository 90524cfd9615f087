#include "evaluators/char_lm/harness/task.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include <fmt/core.h>

#include "evaluators/char_lm/harness/evaluate.h"
#include "evaluators/harness_parts.h"
#include "evaluators/versions.h"

namespace ergon::evaluators {
namespace {

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
    c.train_bytes = static_cast<std::size_t>(ParamOr(spec(), "train_bytes", static_cast<int>(c.train_bytes)));
    c.validation_chars =
        static_cast<std::size_t>(ParamOr(spec(), "validation_chars", static_cast<int>(c.validation_chars)));
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

std::unique_ptr<Task> MakeCharLmTask(const TaskSpec& spec) { return std::make_unique<CharLmTask>(spec); }

}  // namespace ergon::evaluators
