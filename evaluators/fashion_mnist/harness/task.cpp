#include "evaluators/fashion_mnist/harness/task.h"

#include <mutex>

#include <fmt/core.h>

#include "evaluators/fashion_mnist/harness/evaluate.h"
#include "evaluators/harness_parts.h"
#include "evaluators/versions.h"

namespace ergon::evaluators {
namespace {

class FashionMnistTask : public Task {
 public:
  using Task::Task;

  // The data set is part of the version: another package release, other numbers.
  std::string Version() const override {
    return fmt::format("{} data {}", kFashionMnistVersion, Data() ? Data()->digest : std::string("none"));
  }

  Measurement Evaluate(const sandbox::Sandbox& sb, const TaskEvalRequest& q) const override {
    FashionMnistRequest f;
    f.source = q.source;
    f.cuda = (q.language.empty() ? spec().language : q.language) == "cuda";
    f.meter = q.meter.empty() ? spec().meter : q.meter;
    f.suite = q.suite;
    f.instances = q.instances ? static_cast<int>(q.instances) : spec().instances;
    f.timeout_s = q.timeout_s > 0 ? q.timeout_s : spec().timeout_s;
    f.gate = spec().gate_min;
    f.tier.side = ParamOr(spec(), "side", f.tier.side);
    f.tier.train_rows = ParamOr(spec(), "train_rows", f.tier.train_rows);
    f.tier.test_rows = ParamOr(spec(), "test_rows", f.tier.test_rows);
    if (Data()) f.data = &*Data();  // else the evaluation reads it again and says why it cannot
    Measurement m = LearnerMeasurement(EvaluateFashionMnist(sb, f), Version(), spec().name);
    Judge(m);
    return m;
  }

  std::map<std::string, std::string> ExportFiles(const std::string& source, const std::string& language) const override {
    auto files = Task::ExportFiles(source, language);
    files["RUN.txt"] = fmt::format(
        "The learner reads train-images.idx, train-labels.idx and test-images.idx in its folder and writes\n"
        "predictions.txt. Score it as ergon does:\nergon eval --task {} candidate.{} --suite fresh\n",
        spec().name, language == "cuda" ? "cu" : "cpp");
    return files;
  }

 private:
  // Read once for the task's version and all its evaluations (55 MB
  // decompressed and hashed: about 0.3 s that every evaluation paid again).
  const tl::expected<ImageSet, std::string>& Data() const {
    std::call_once(data_once_, [&] { data_ = LoadFashionMnist(kFashionMnistDir); });
    return data_;
  }
  mutable std::once_flag data_once_;
  mutable tl::expected<ImageSet, std::string> data_;
};

}  // namespace

std::unique_ptr<Task> MakeFashionMnistTask(const TaskSpec& spec) { return std::make_unique<FashionMnistTask>(spec); }

}  // namespace ergon::evaluators
