// Test helper: run the `ergon` binary as a user would (a real child process,
// stdout and stderr together) and keep its exit code and output.
// ERGON_BINARY is defined by tests/CMakeLists.txt.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

#include <doctest/doctest.h>

struct Ran {
  int code;
  std::string out;
};

// A shell command line, stdout and stderr together.
inline Ran RunShell(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

inline Ran Ergon(const std::string& args, const std::string& env = "", const std::string& cwd = "") {
  return RunShell((cwd.empty() ? "" : "cd '" + cwd + "' && ") + env + " '" + ERGON_BINARY + "' " + args);
}
