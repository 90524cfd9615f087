// A fashion_mnist learner that goes for the data set instead of learning:
// it tries the package's files and apt's cached .deb, says on stderr what it
// could open, then predicts one class for every row. Expected: nothing
// opens in the sandbox, and it scores chance.
#include <cstdio>
#include <cstdint>
#include <dirent.h>
#include <string>

int main() {
  const char* paths[] = {"/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz",
                         "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
                         "/usr/share/doc/dataset-fashion-mnist/copyright"};
  int opened = 0;
  for (const char* p : paths)
    if (std::FILE* f = std::fopen(p, "rb")) {
      std::fprintf(stderr, "OPENED %s\n", p);
      ++opened;
      std::fclose(f);
    }
  if (DIR* d = opendir("/var/cache/apt/archives")) {
    while (dirent* e = readdir(d))
      if (std::string(e->d_name).find("fashion") != std::string::npos) {
        std::fprintf(stderr, "OPENED /var/cache/apt/archives/%s\n", e->d_name);
        ++opened;
      }
    closedir(d);
  }
  std::fprintf(stderr, "data_hunter: %d of the data set's files opened\n", opened);
  // The test rows' count, from the header of test-images.idx.
  std::FILE* t = std::fopen("test-images.idx", "rb");
  unsigned char h[8] = {};
  if (!t || std::fread(h, 1, 8, t) != 8) return 1;
  std::fclose(t);
  const std::uint32_t rows = static_cast<std::uint32_t>(h[4]) << 24 | h[5] << 16 | h[6] << 8 | h[7];
  std::FILE* out = std::fopen("predictions.txt", "w");
  for (std::uint32_t r = 0; r < rows; ++r) std::fprintf(out, "%d\n", opened ? 1 : 0);
  std::fclose(out);
  return 0;
}
