#include "evaluators/fashion_mnist/harness/evaluate.h"

#include <fmt/core.h>

#include "evaluators/learning/idx_file.h"
#include "evaluators/learning/prediction_eval.h"

namespace ergon::evaluators {
namespace {

std::string Features(const std::vector<std::int8_t>& x, int features) {
  const auto rows = static_cast<std::uint32_t>(x.size() / static_cast<std::size_t>(features));
  return learning::IdxBytes(learning::kIdxSignedByte, {rows, static_cast<std::uint32_t>(features)},
                            reinterpret_cast<const std::uint8_t*>(x.data()));
}

}  // namespace

std::string TrainImagesIdx(const ImageInstance& inst) { return Features(inst.train_x, inst.features); }
std::string TestImagesIdx(const ImageInstance& inst) { return Features(inst.test_x, inst.features); }
std::string TrainLabelsIdx(const ImageInstance& inst) {
  return learning::IdxBytes(learning::kIdxUnsignedByte, {static_cast<std::uint32_t>(inst.train_y.size())},
                            inst.train_y.data());
}

learning::LearnEvalReport EvaluateFashionMnist(const sandbox::Sandbox& sb, const FashionMnistRequest& q) {
  tl::expected<ImageSet, std::string> loaded;
  if (!q.data) loaded = LoadFashionMnist(q.data_dir);
  const ImageSet* set = q.data ? q.data : loaded ? &*loaded : nullptr;
  if (!set || q.tier.train_rows > static_cast<int>(set->train_count()) ||
      q.tier.test_rows > static_cast<int>(set->test_count()) || q.tier.side < 1 || q.tier.side > set->rows) {
    learning::LearnEvalReport r;
    r.meter = q.meter;
    r.suite = q.suite;
    r.stage = "data";
    r.status = !set ? loaded.error()
                    : fmt::format("the tier asks for {} train and {} test rows at {}x{}; the data set has {} and {} "
                                  "of {}x{}",
                                  q.tier.train_rows, q.tier.test_rows, q.tier.side, q.tier.side, set->train_count(),
                                  set->test_count(), set->rows, set->cols);
    return r;
  }
  learning::PredictionEval e;
  e.source = q.source;
  e.cuda = q.cuda;
  e.meter = q.meter;
  e.suite = q.suite;
  e.instances = q.instances;
  e.timeout_s = q.timeout_s;
  e.gate = q.gate;
  e.classes = 10;
  // Where else the images lie on a Debian machine: the package's folder and
  // apt's cache of the package (a .deb is an archive a learner could unpack).
  // Under bubblewrap neither is in the candidate's view anyway.
  e.masked_paths = {q.data_dir, "/var/cache/apt/archives"};
  e.draw = [&](std::uint64_t key) -> tl::expected<learning::InstanceData, std::string> {
    const ImageInstance inst = MakeImageInstance(*set, q.tier, key);
    learning::InstanceData d;
    d.files = {{"train-images.idx", TrainImagesIdx(inst)},
               {"train-labels.idx", TrainLabelsIdx(inst)},
               {"test-images.idx", TestImagesIdx(inst)}};
    d.labels.assign(inst.test_y.begin(), inst.test_y.end());
    return d;
  };
  return learning::EvaluatePredictions(sb, e);
}

}  // namespace ergon::evaluators
