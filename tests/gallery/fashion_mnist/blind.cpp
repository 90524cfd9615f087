// A fashion_mnist learner that predicts without reading its inputs: only
// the test rows' count from the header, then a fixed cycle of labels.
// Expected: chance (about 0.1).
#include <cstdint>
#include <cstdio>

int main() {
  std::FILE* t = std::fopen("test-images.idx", "rb");
  unsigned char h[8] = {};
  if (!t || std::fread(h, 1, 8, t) != 8) return 1;
  std::fclose(t);
  const std::uint32_t rows = static_cast<std::uint32_t>(h[4]) << 24 | h[5] << 16 | h[6] << 8 | h[7];
  std::FILE* out = std::fopen("predictions.txt", "w");
  for (std::uint32_t r = 0; r < rows; ++r) std::fprintf(out, "%u\n", (r * 7) % 10);
  return std::fclose(out) == 0 ? 0 : 1;
}
