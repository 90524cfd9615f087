// Test helper: "countdown", a toy external task whose evaluations take a
// fraction of a second (the candidate writes a number, and the number is its
// cost), made fresh in a temporary folder; and what a scripted model reads
// back from a prompt that shows a countdown program.
#pragma once

#include <unistd.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

// A toy external task whose evaluations take a fraction of a second: the
// candidate writes a number, and the number is its cost. Lower is better;
// any number passes the gate. Made fresh in a temporary folder per test.
struct Countdown {
  std::filesystem::path root, db;
  explicit Countdown(const std::string& name, const std::string& meter = "wall", int sleep_ms = 0, int pad_lines = 0) {
    root = std::filesystem::temp_directory_path() / ("ergon-quality-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root);
    const std::filesystem::path dir = root / "countdown";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "task.json") << R"({
  "summary": "write the smallest number you can",
  "description": "Write a program that writes one decimal number to answer.txt. The number is the cost.",
  "language": "cpp",
  "objectives": {"gate": {"metric": "ok", "min": 1}, "minimise": "cost"},
  "metrics": ["ok", "cost"],
  "meter": ")" + meter + R"(",
  "instances": 1,
  "timeout_s": 20,
  "params": {"start": 1000},
  "edits": {"whole_file": true},
  "harness": {"prepare": ["sh", "prepare.sh"], "score": ["sh", "score.sh"], "timeout_s": 20}
})";
    std::ofstream(dir / "prepare.sh") << "mkdir -p \"$2\" \"$3\"\necho go > \"$2/input.txt\"\n";
    std::ofstream(dir / "score.sh") << "v=$(cat \"$1/answer.txt\" 2>/dev/null)\n"
                                       "case \"$v\" in ''|*[!0-9]*) echo '{\"ok\": 0, \"cost\": 1e9}';;\n"
                                       "*) echo \"{\\\"ok\\\": 1, \\\"cost\\\": $v}\";; esac\n";
    std::ofstream(dir / "baseline.cpp") << Source(1000, sleep_ms, pad_lines);
    db = root / "night.db";
  }
  ~Countdown() { std::filesystem::remove_all(root); }
  // pad_lines: comment lines that make the program long (a slow closest-match search).
  static std::string Source(int cost, int sleep_ms = 0, int pad_lines = 0) {
    std::string pad;
    if (pad_lines > 0) {
      pad = "// pad lines: " + std::to_string(pad_lines) + "\n";
      for (int i = 0; i < pad_lines; ++i) pad += "// padding line " + std::to_string(i) + " of a long program\n";
    }
    return pad + "#include <cstdio>\n#include <unistd.h>\n\n"
           "constexpr int kCost = " + std::to_string(cost) + ";  // KNOB cost " + std::to_string(cost) +
           " range 1 100000 int down\n\n"
           "int main() {\n  ::usleep(" + std::to_string(sleep_ms * 1000) + ");\n"
           "  std::FILE* f = std::fopen(\"answer.txt\", \"w\");\n  if (!f) return 1;\n"
           "  std::fprintf(f, \"%d\\n\", kCost);\n  std::fclose(f);\n  return 0;\n}\n";
  }
  std::string Args(const std::string& more) const {
    return "run --task countdown --tasks '" + root.string() + "' --db '" + db.string() + "' " + more;
  }
};

// The number that follows `key` in `text` (no <regex>: it costs the build 8 s).
inline std::optional<double> NumberAfter(const std::string& text, const std::string& key) {
  const auto at = text.find(key);
  if (at == std::string::npos) return std::nullopt;
  try {
    return std::stod(text.substr(at + key.size(), 32));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The parent's number, and its pause, from the program the prompt shows.
inline int CostInPrompt(const std::string& prompt) {
  return static_cast<int>(NumberAfter(prompt, "constexpr int kCost = ").value_or(1000));
}
inline int SleepInPrompt(const std::string& prompt) {
  return static_cast<int>(NumberAfter(prompt, "usleep(").value_or(0)) / 1000;
}

