// The fashion_mnist tasks: a learner (C++ or CUDA) is compiled and run in
// the sandbox once per instance, in a fresh directory holding
// train-images.idx, train-labels.idx and test-images.idx (an instance of
// instance.h: transformed features as signed bytes); it writes
// predictions.txt, one label 0-9 per test row. The data set and the test
// labels stay with the harness.
#pragma once

#include <string>

#include "evaluators/fashion_mnist/harness/dataset.h"
#include "evaluators/fashion_mnist/harness/instance.h"
#include "evaluators/learning/learn_report.h"
#include "sandbox/sandbox.h"

namespace ergon::evaluators {

struct FashionMnistRequest {
  std::string source;
  bool cuda = false;
  std::string meter = "cachemodel";  // cachemodel | nvml | wall
  std::string suite = "dev";         // dev | fresh
  int instances = 1;
  double timeout_s = 300;
  double gate = 0;
  ImageTier tier;
  // The data set, when the caller has it loaded already (a task keeps one
  // for all its evaluations); else it is read from data_dir.
  const ImageSet* data = nullptr;
  std::string data_dir = kFashionMnistDir;
};

learning::LearnEvalReport EvaluateFashionMnist(const sandbox::Sandbox& sandbox, const FashionMnistRequest& request);

// The instance's files as the learner finds them.
std::string TrainImagesIdx(const ImageInstance& inst);
std::string TrainLabelsIdx(const ImageInstance& inst);
std::string TestImagesIdx(const ImageInstance& inst);

}  // namespace ergon::evaluators
