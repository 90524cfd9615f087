// Hostile candidate for an external task (linear_regression's protocol):
// walks the whole filesystem it can see for files whose name holds the
// marker the test pastes in (planted in a task folder's copy, home, /srv,
// /opt, /var, a spool, a data set...), reports each it can read on stderr,
// then answers with zeros. It plants one file in its own work dir first, so
// a walk that finds nothing at all shows up as broken.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string>

static const char* kMarker = "@MARKER@";
static int found = 0, walked = 0;

static void Walk(const std::string& dir, int depth) {
  if (depth > 24) return;
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = (dir == "/" ? "" : dir) + "/" + name;
    if (path == "/proc" || path == "/sys" || path == "/dev") continue;
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) continue;
    ++walked;
    if (name.find(kMarker) != std::string::npos && S_ISREG(st.st_mode)) {
      if (FILE* f = std::fopen(path.c_str(), "r")) {
        std::fclose(f);
        std::fprintf(stderr, "FOUND %s\n", path.c_str());
        ++found;
      }
    }
    if (S_ISDIR(st.st_mode)) Walk(path, depth + 1);
  }
  closedir(d);
}

int main() {
  if (FILE* mine = std::fopen((std::string(kMarker) + "-mine.txt").c_str(), "w")) std::fclose(mine);
  Walk("/", 0);
  std::fprintf(stderr, "HUNT walked=%d found=%d\n", walked, found);
  FILE* t = std::fopen("test.txt", "r");
  FILE* out = std::fopen("predictions.txt", "w");
  int d = 0, m = 0;
  if (!t || !out || std::fscanf(t, "%d %d", &d, &m) != 2) return 1;
  for (int i = 0; i < m; ++i) std::fprintf(out, "0\n");
  std::fclose(out);
  return 0;
}
