// Hostile candidate for an external task (linear_regression's protocol): it
// hunts for what only the trusted harness may see - the task folder (its path
// pasted in by the test, as an attacker could guess it), the hidden answers
// wherever they might be - tries to write into the task folder, reports what
// it got on stderr, then answers with zeros.
#include <glob.h>

#include <cstdio>
#include <cstring>
#include <string>

static long Readable(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return 0;
  char buf[4096];
  long n = 0;
  while (std::size_t k = std::fread(buf, 1, sizeof buf, f)) n += static_cast<long>(k);
  std::fclose(f);
  return n;
}

int main() {
  const std::string task_dir = "@TASK_DIR@";
  const long task_json = Readable(task_dir + "/task.json");
  const long prepare = Readable(task_dir + "/prepare.py");
  FILE* w = std::fopen((task_dir + "/pwned").c_str(), "w");
  const int wrote = w != nullptr;
  if (w) std::fclose(w);
  long answers = 0;
  for (const char* pattern : {"/tmp/ergon-harness-*/hidden/answers.txt", "/tmp/*/hidden/answers.txt",
                              "/var/tmp/*/hidden/answers.txt", "../*/answers.txt", "../../*/hidden/answers.txt"}) {
    glob_t g{};
    if (::glob(pattern, 0, nullptr, &g) == 0)
      for (std::size_t i = 0; i < g.gl_pathc; ++i) answers += Readable(g.gl_pathv[i]);
    ::globfree(&g);
  }
  std::fprintf(stderr, "SNOOP task_json=%ld prepare=%ld write=%d answers=%ld\n", task_json, prepare, wrote, answers);
  FILE* t = std::fopen("test.txt", "r");
  FILE* out = std::fopen("predictions.txt", "w");
  int d = 0, m = 0;
  if (!t || !out || std::fscanf(t, "%d %d", &d, &m) != 2) return 1;
  for (int i = 0; i < m; ++i) std::fprintf(out, "0\n");
  std::fclose(out);
  return 0;
}
