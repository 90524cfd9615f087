// Test helpers for runs that take time on purpose: a task whose learner
// sleeps (so a stop, a kill or a cancelled cluster job finds work in flight),
// ergon started in the background, and counts read from the archive.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <sqlite3.h>

#include <doctest/doctest.h>

#include "slurp.h"

// A task whose learner sleeps: evaluations that are long on purpose, so a
// stop or a deadline finds work in flight. linear_regression's harness, one
// instance, the wall meter.
struct Sleepy {
  std::filesystem::path root, dir, db;
  explicit Sleepy(const std::string& name, int sleep_s = 4) {
    root = std::filesystem::path("/var/tmp") / ("ergon-overnight-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root);
    dir = root / "sleepy";
    std::filesystem::create_directories(root);
    std::filesystem::copy(std::filesystem::path(ERGON_SOURCE_DIR) / "evaluators" / "linear_regression", dir, std::filesystem::copy_options::recursive);
    std::string spec = Slurp(dir / "task.json");
    spec.replace(spec.find("\"meter\": \"cachemodel\""), 21, "\"meter\": \"wall\"");
    spec.replace(spec.find("\"instances\": 3"), 14, "\"instances\": 1");
    std::ofstream(dir / "task.json") << spec;
    std::string base = Slurp(dir / "baseline.cpp");
    base.replace(base.find("#include <cstdio>"), 17,
                 "#include <cstdio>\n#include <unistd.h>\nconstexpr int kSleep = " + std::to_string(sleep_s) +
                     ";  // KNOB sleep " + std::to_string(sleep_s) + " range " + std::to_string(sleep_s) + " " +
                     std::to_string(sleep_s + 1) + " int");
    base.replace(base.find("int main() {"), 12, "int main() {\n  ::sleep(kSleep);");
    std::ofstream(dir / "baseline.cpp") << base;
    db = root / "night.db";
  }
  ~Sleepy() { std::filesystem::remove_all(root); }
  std::string Args(const std::string& more) const {
    return "run --task sleepy --tasks '" + root.string() + "' --db '" + db.string() + "' " + more;
  }
};

// Runs ergon in the background; returns its pid (output to a file).
inline pid_t Start(const std::string& args, const std::filesystem::path& log, const std::string& env = "") {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl("/bin/sh", "sh", "-c", (env + (env.empty() ? "" : " ") + "exec '" + ERGON_BINARY + "' " + args).c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

// Waits until `log` holds `text` (or the timeout passes).
inline bool WaitFor(const std::filesystem::path& log, const std::string& text, double timeout_s) {
  using Clock = std::chrono::steady_clock;
  const auto end = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (Clock::now() < end) {
    if (Slurp(log).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

inline std::int64_t Count(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  const auto n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(raw);
  return n;
}

