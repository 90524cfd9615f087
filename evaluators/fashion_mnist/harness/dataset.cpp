#include "evaluators/fashion_mnist/harness/dataset.h"

#include <filesystem>

#include <fmt/core.h>

#include "evaluators/learning/idx_file.h"

namespace ergon::evaluators {
namespace {

using learning::IdxArray;

// FNV-1a over the bytes, continuing from h.
std::uint64_t Fnv(std::uint64_t h, const std::vector<std::uint8_t>& bytes) {
  for (std::uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  return h;
}

// One split's images and labels, checked against each other.
tl::expected<void, std::string> LoadSplit(const std::string& dir, const std::string& prefix, ImageSet& set,
                                          std::vector<std::uint8_t>& images, std::vector<std::uint8_t>& labels) {
  auto im = learning::ReadIdxFile(fmt::format("{}/{}-images-idx3-ubyte.gz", dir, prefix));
  if (!im) return tl::unexpected(im.error());
  auto lb = learning::ReadIdxFile(fmt::format("{}/{}-labels-idx1-ubyte.gz", dir, prefix));
  if (!lb) return tl::unexpected(lb.error());
  if (im->type != learning::kIdxUnsignedByte || im->dims.size() != 3 ||
      im->dims[1] != static_cast<std::uint32_t>(set.rows) || im->dims[2] != static_cast<std::uint32_t>(set.cols))
    return tl::unexpected(fmt::format("{}/{}-images: expected unsigned bytes of N x 28 x 28", dir, prefix));
  if (lb->type != learning::kIdxUnsignedByte || lb->dims.size() != 1 || lb->dims[0] != im->dims[0])
    return tl::unexpected(fmt::format("{}/{}-labels: expected {} unsigned bytes", dir, prefix, im->dims[0]));
  for (std::uint8_t y : lb->data)
    if (y > 9) return tl::unexpected(fmt::format("{}/{}-labels: a label of {} (expected 0-9)", dir, prefix, y));
  images = std::move(im->data);
  labels = std::move(lb->data);
  return {};
}

}  // namespace

tl::expected<ImageSet, std::string> LoadFashionMnist(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(fmt::format("{}/train-images-idx3-ubyte.gz", dir), ec))
    return tl::unexpected(fmt::format(
        "the fashion_mnist data set is missing: no train-images-idx3-ubyte.gz in {} (install Debian's "
        "`dataset-fashion-mnist` package: sudo apt-get install -y dataset-fashion-mnist, or run `make deps`)",
        dir));
  ImageSet set;
  if (auto ok = LoadSplit(dir, "train", set, set.train_images, set.train_labels); !ok) return tl::unexpected(ok.error());
  if (auto ok = LoadSplit(dir, "t10k", set, set.test_images, set.test_labels); !ok) return tl::unexpected(ok.error());
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const auto* part : {&set.train_images, &set.train_labels, &set.test_images, &set.test_labels}) h = Fnv(h, *part);
  set.digest = fmt::format("{:016x}", h);
  return set;
}

}  // namespace ergon::evaluators
