// Fashion-MNIST as Debian's dataset-fashion-mnist package installs it: four
// gzipped idx files (60,000 training and 10,000 test images of 28x28 bytes,
// and their labels 0-9), read whole and checked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace ergon::evaluators {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct ImageSet {
  int rows = 28, cols = 28;
  std::vector<std::uint8_t> train_images, train_labels;  // images row-major, rows*cols bytes each
  std::vector<std::uint8_t> test_images, test_labels;
  std::string digest;  // of all four files' contents: part of the evaluator version

  std::size_t train_count() const { return train_labels.size(); }
  std::size_t test_count() const { return test_labels.size(); }
  const std::uint8_t* train_image(std::size_t i) const { return &train_images[i * static_cast<std::size_t>(rows * cols)]; }
  const std::uint8_t* test_image(std::size_t i) const { return &test_images[i * static_cast<std::size_t>(rows * cols)]; }
};

// Reads DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz. A missing
// package is an error that says how to install it.
tl::expected<ImageSet, std::string> LoadFashionMnist(const std::string& dir);

}  // namespace ergon::evaluators
