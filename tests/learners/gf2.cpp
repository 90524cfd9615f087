// Reference learner for the tests: GF(2) elimination. Each training row is a
// linear equation over GF(2) (XOR of the secret bits = label); with ~n+10
// rows the system has full rank, and the solution is the secret. Reads only
// the rows it needs, which is why it costs hundreds of times less than SGD.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

static void Fail(const char* what) {
  std::fprintf(stderr, "gf2: %s\n", what);
  std::exit(1);
}

int main() {
  std::FILE* f = std::fopen("train.txt", "r");
  if (!f) Fail("no train.txt");
  int n, k, m;
  if (std::fscanf(f, "%d %d %d", &n, &k, &m) != 3 || n > 63) Fail("bad header");
  // Rows as bitmasks, label in bit n; eliminate as rows arrive.
  std::vector<std::uint64_t> basis(static_cast<size_t>(n), 0);  // basis[c]: pivot at bit c
  int rank = 0;
  char bits[80];
  for (int r = 0; r < m && rank < n; ++r) {
    int y;
    if (std::fscanf(f, "%70s %d", bits, &y) != 2) Fail("short train.txt");
    std::uint64_t row = static_cast<std::uint64_t>(y & 1) << n;
    for (int c = 0; c < n; ++c)
      if (bits[c] == '1') row |= std::uint64_t{1} << c;
    for (int c = 0; c < n; ++c) {
      if (!((row >> c) & 1)) continue;
      if (basis[static_cast<size_t>(c)]) row ^= basis[static_cast<size_t>(c)];
      else { basis[static_cast<size_t>(c)] = row; ++rank; break; }
    }
  }
  std::fclose(f);
  // Back-substitute from the highest pivot: secret bit c = label of row c.
  std::uint64_t secret = 0;
  for (int c = n - 1; c >= 0; --c) {
    std::uint64_t row = basis[static_cast<size_t>(c)];
    if (!row) continue;
    int v = static_cast<int>((row >> n) & 1);
    for (int d = c + 1; d < n; ++d)
      if ((row >> d) & 1) v ^= static_cast<int>((secret >> d) & 1);
    if (v) secret |= std::uint64_t{1} << c;
  }
  std::FILE* t = std::fopen("test.txt", "r");
  std::FILE* p = std::fopen("predictions.txt", "w");
  if (!t || !p) Fail("cannot open test.txt or predictions.txt");
  int tn, tm;
  if (std::fscanf(t, "%d %d", &tn, &tm) != 2) Fail("bad test header");
  for (int r = 0; r < tm; ++r) {
    if (std::fscanf(t, "%70s", bits) != 1) Fail("short test.txt");
    int v = 0;
    for (int c = 0; c < n; ++c)
      if (((secret >> c) & 1) && bits[c] == '1') v ^= 1;
    std::fputc('0' + v, p);
    std::fputc('\n', p);
  }
  std::fclose(t);
  return std::fclose(p) == 0 ? 0 : 1;
}
