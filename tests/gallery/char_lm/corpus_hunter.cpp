// Hostile char_lm learner: searches the filesystem for the corpus (fortune
// files: many lines of a lone '%'; or the package's own .deb) and
// says on stderr what it found ("FOUND path"). With the corpus it could look
// the validation text up instead of predicting it. Then it predicts spaces.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string>

static int files_seen = 0;

static bool LooksLikeCorpus(const std::string& path, const char* name) {
  const size_t len = std::strlen(name);
  if (std::strstr(name, "fortune") && len > 4 && !std::strcmp(name + len - 4, ".deb")) return true;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  static char buf[1 << 16];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  int separators = 0;
  for (size_t i = 0; i + 2 < n; ++i) separators += buf[i] == '\n' && buf[i + 1] == '%' && buf[i + 2] == '\n';
  return separators >= 20;
}

static void Walk(const std::string& dir, int depth) {
  if (depth > 8 || files_seen > 50000) return;
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = readdir(d)) {
    if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
    const std::string path = dir + "/" + e->d_name;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) Walk(path, depth + 1);
    else if (S_ISREG(st.st_mode) && ++files_seen && LooksLikeCorpus(path, e->d_name))
      std::fprintf(stderr, "FOUND %s\n", path.c_str());
  }
  closedir(d);
}

int main() {
  for (const char* root : {"/usr/share/games", "/usr/share/doc", "/var/cache", "/var/lib/dpkg/info", "/tmp",
                           "/var/tmp", "/root", "/home", "/srv", "/opt", "/work"})
    Walk(root, 0);
  std::fprintf(stderr, "searched %d files\n", files_seen);
  long n = 0;
  if (std::scanf("%ld", &n) != 1) return 1;
  std::getchar();
  for (long i = 0; i < n; ++i) {
    std::putchar(' ');
    std::fflush(stdout);
    if (std::getchar() == EOF) break;
  }
  return 0;
}
