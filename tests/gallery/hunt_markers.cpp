// argv: token marker [path...]. Walks the whole filesystem it can see (not
// /proc, /sys, /dev) for files whose name holds `marker`, tries each given
// path besides, and prints "FOUND <path>: <first line>" for every one it can
// read: what a candidate hunting for a task's harness, a data set or a key
// would do.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string>

static int files_seen = 0;

static void Try(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return;
  char line[256] = {0};
  if (!std::fgets(line, sizeof line, f)) line[0] = 0;
  std::fclose(f);
  line[std::strcspn(line, "\n")] = 0;
  std::printf("FOUND %s: %s\n", path.c_str(), line);
}

static void Walk(const std::string& dir, const char* marker, int depth) {
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
    ++files_seen;
    if (name.find(marker) != std::string::npos && S_ISREG(st.st_mode)) Try(path);
    if (S_ISDIR(st.st_mode)) Walk(path, marker, depth + 1);
  }
  closedir(d);
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  Walk("/", argv[2], 0);
  for (int i = 3; i < argc; ++i) Try(argv[i]);
  std::printf("walked %d entries\n", files_seen);
  return 0;
}
