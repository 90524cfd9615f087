#include <optional>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "genome/diff.h"
#include "genome/edit.h"
#include "genome/genome.h"

using namespace ergon::genome;

namespace {

const char* kParent =
    "#include <cstdio>\n"
    "constexpr double kLr = 0.1;  // KNOB lr 0.1 range 0.001 1.0 log\n"
    "// KNOB hidden 200 range 8 1024 int\n"
    "constexpr int kHidden = 200;\n"
    "int frozen() { return 1; }\n"
    "// EVOLVE-BLOCK-START\n"
    "int step(int x) {\n"
    "  return x + 1;\n"
    "}\n"
    "// EVOLVE-BLOCK-END\n"
    "int main() { std::printf(\"%d\\n\", step(frozen())); }\n";

Genome Parent() {
  auto g = Genome::Parse(kParent);
  REQUIRE_MESSAGE(g.has_value(), (g ? "" : g.error()));
  return *g;
}

}  // namespace

TEST_CASE("blocks and knobs are parsed with their lines") {
  Genome g = Parent();
  REQUIRE(g.blocks().size() == 1);
  CHECK(g.blocks()[0].start_line == 6);
  CHECK(g.blocks()[0].end_line == 10);
  REQUIRE(g.knobs().size() == 2);
  const Knob* lr = g.FindKnob("lr");
  REQUIRE(lr);
  CHECK(lr->value == doctest::Approx(0.1));
  CHECK(lr->lo == doctest::Approx(0.001));
  CHECK(lr->log_scale);
  CHECK(!lr->integer);
  CHECK(lr->code_line == 2);
  const Knob* h = g.FindKnob("hidden");
  REQUIRE(h);
  CHECK(h->integer);
  CHECK(h->comment_line == 3);
  CHECK(h->code_line == 4);  // the comment stands alone: the next line holds it
}

TEST_CASE("malformed markers and knobs are rejected with a line number") {
  struct Case { const char* src; const char* expect; };
  Case cases[] = {
      {"a\n// EVOLVE-BLOCK-END\n", "line 2: EVOLVE-BLOCK-END without START"},
      {"// EVOLVE-BLOCK-START\nx\n", "line 1: EVOLVE-BLOCK-START never closed"},
      {"// EVOLVE-BLOCK-START\n// EVOLVE-BLOCK-START\n", "line 2: EVOLVE-BLOCK-START inside"},
      {"// EVOLVE-BLOCK-BEGIN\n", "line 1: unknown marker"},
      {"int x = 3; // KNOB x 3 range 1\n", "line 1: malformed KNOB (too few fields)"},
      {"int x = 3; // KNOB x 30 range 1 5\n", "value outside its range"},
      {"int x = 3; // KNOB x 3 range 5 1\n", "lo must be below hi"},
      {"double x = 0.5; // KNOB x 0.5 range 0 1 log\n", "log scale needs lo > 0"},
      {"double x = 0.5; // KNOB x 0.5 range 0 1 int\n", "int knob with a fractional number"},
      {"int x = 3; // KNOB x 3 range 1 5 fast\n", "unknown flag 'fast'"},
      {"int x = 4; // KNOB x 3 range 1 5\n", "must appear exactly once"},
      {"int x = 3, y = 3; // KNOB x 3 range 1 5\n", "found 2"},
      {"int x = 33; // KNOB x 3 range 1 50\n", "found 0"},
      {"int x = 3; // KNOB x 3 range 1 5\nint y = 3; // KNOB x 3 range 1 5\n", "line 2: knob 'x' already declared at line 1"},
      {"// KNOB x 3 range 1 5\n\n", "no code line after it"},
      {"int x = 3; // KNOB 9x 3 range 1 5\n", "is not an identifier"},
  };
  for (const auto& c : cases) {
    auto g = Genome::Parse(c.src);
    INFO(c.src);
    REQUIRE(!g.has_value());
    CHECK_MESSAGE(g.error().find(c.expect) != std::string::npos, g.error());
  }
}

TEST_CASE("WithKnob rewrites the literal and the comment - and checks range") {
  Genome g = Parent();
  auto g2 = g.WithKnob("lr", 0.25);
  REQUIRE_MESSAGE(g2.has_value(), (g2 ? "" : g2.error()));
  CHECK(g2->source().find("constexpr double kLr = 0.25;  // KNOB lr 0.25 range 0.001 1.0 log") != std::string::npos);
  CHECK(g2->FindKnob("lr")->value == doctest::Approx(0.25));
  auto g3 = g2->WithKnob("hidden", 64);
  REQUIRE(g3.has_value());
  CHECK(g3->source().find("// KNOB hidden 64 range 8 1024 int\nconstexpr int kHidden = 64;") != std::string::npos);
  // A whole-number value of a real knob keeps a decimal point.
  auto g4 = g.WithKnob("lr", 1.0);
  REQUIRE(g4.has_value());
  CHECK(g4->source().find("kLr = 1.0;") != std::string::npos);
  CHECK(!g.WithKnob("lr", 2.0).has_value());
  CHECK(!g.WithKnob("hidden", 10.5).has_value());
  CHECK(!g.WithKnob("nope", 1).has_value());
  // Other text is untouched.
  CHECK(g3->FrozenParts().size() == g.FrozenParts().size());
  CHECK(g3->blocks()[0].start_line == 6);
}

TEST_CASE("knob literals with C++ suffixes and in expressions") {
  auto g = Genome::Parse("float a = 0.5f * 2;  // KNOB a 0.5 range 0.1 1\n");
  REQUIRE_MESSAGE(g.has_value(), (g ? "" : g.error()));
  auto g2 = g->WithKnob("a", 0.75);
  REQUIRE(g2.has_value());
  CHECK(g2->source() == "float a = 0.75f * 2;  // KNOB a 0.75 range 0.1 1\n");
}

TEST_CASE("content hash ignores line-end style and trailing blanks - nothing else") {
  std::string a = "int main() {\n  return 0;\n}\n";
  std::string crlf = "int main() {\r\n  return 0;   \r\n}\r\n\r\n\r\n";
  CHECK(ContentHash(a) == ContentHash(crlf));
  CHECK(ContentHash(a) != ContentHash("int main() {\n  return 1;\n}\n"));
  CHECK(ContentHash(a) != ContentHash("int main() {\n return 0;\n}\n"));  // indentation matters
  CHECK(ContentHash(a).size() == 64);
}

TEST_CASE("SEARCH/REPLACE inside an evolve block applies exactly") {
  Genome g = Parent();
  std::string proposal =
      "I will make the step larger.\n"
      "```cpp\n"
      "<<<<<<< SEARCH\n"
      "  return x + 1;\n"
      "=======\n"
      "  return x + 2;\n"
      ">>>>>>> REPLACE\n"
      "```\n"
      "This should help.\n";
  auto child = ApplyProposal(g, proposal);
  REQUIRE_MESSAGE(child.has_value(), (child ? "" : child.error().message));
  CHECK(child->source().find("return x + 2;") != std::string::npos);
  CHECK(child->source().find("return x + 1;") == std::string::npos);
  CHECK(child->Hash() != g.Hash());
}

TEST_CASE("CRLF and tab/space differences are tolerated once") {
  Genome g = Parent();
  std::string proposal =
      "<<<<<<< SEARCH\r\n"
      "int step(int x)   {\r\n"
      "\treturn x + 1;\r\n"
      "}\r\n"
      "=======\r\n"
      "int step(int x) {\r\n"
      "  return 2 * x;\r\n"
      "}\r\n"
      ">>>>>>> REPLACE\r\n";
  auto child = ApplyProposal(g, proposal);
  REQUIRE_MESSAGE(child.has_value(), (child ? "" : child.error().message));
  CHECK(child->source().find("return 2 * x;") != std::string::npos);
  CHECK(child->source().find('\r') == std::string::npos);
}

TEST_CASE("a SEARCH that does not match names the closest region") {
  Genome g = Parent();
  std::string proposal =
      "<<<<<<< SEARCH\n"
      "int step(int y) {\n"
      "  return y + 1;\n"
      "=======\n"
      "int step(int y) {\n"
      "  return y + 3;\n"
      ">>>>>>> REPLACE\n";
  auto child = ApplyProposal(g, proposal);
  REQUIRE(!child.has_value());
  const EditError& e = child.error();
  CHECK(e.kind == EditErrorKind::kNoMatch);
  CHECK(e.block == 0);
  CHECK(e.closest_first_line == 7);
  CHECK(e.closest_last_line == 8);
  CHECK(e.similarity > 0.8);
  CHECK(e.similarity < 1.0);
  CHECK(e.message.find("lines 7-8") != std::string::npos);
  CHECK(e.message.find("return x + 1;") != std::string::npos);
}

TEST_CASE("edits outside evolve blocks are refused unless the task allows whole files") {
  Genome g = Parent();
  std::string proposal =
      "<<<<<<< SEARCH\n"
      "int frozen() { return 1; }\n"
      "=======\n"
      "int frozen() { return 7; }\n"
      ">>>>>>> REPLACE\n";
  auto child = ApplyProposal(g, proposal);
  REQUIRE(!child.has_value());
  CHECK(child.error().kind == EditErrorKind::kOutsideBlocks);
  CHECK(child.error().message.find("lines 6-10") != std::string::npos);
  EditPolicy open;
  open.allow_whole_file = true;
  CHECK(ApplyProposal(g, proposal, open).has_value());
}

TEST_CASE("removing an evolve marker counts as an edit outside the blocks") {
  Genome g = Parent();
  std::string proposal =
      "<<<<<<< SEARCH\n"
      "// EVOLVE-BLOCK-END\n"
      "=======\n"
      ">>>>>>> REPLACE\n";
  auto child = ApplyProposal(g, proposal);
  REQUIRE(!child.has_value());
  // Dropping the END marker leaves START unclosed: the result is invalid.
  CHECK(child.error().kind == EditErrorKind::kInvalidResult);
}

TEST_CASE("several blocks apply in order - a later block may build on an earlier one") {
  Genome g = Parent();
  std::string proposal =
      "First:\n"
      "<<<<<<< SEARCH\n"
      "  return x + 1;\n"
      "=======\n"
      "  int y = x * 3;\n"
      "  return y + 1;\n"
      ">>>>>>> REPLACE\n"
      "Then:\n"
      "<<<<<<< SEARCH\n"
      "  return y + 1;\n"
      "=======\n"
      "  return y - 1;\n"
      ">>>>>>> REPLACE\n";
  auto child = ApplyProposal(g, proposal);
  REQUIRE_MESSAGE(child.has_value(), (child ? "" : child.error().message));
  CHECK(child->source().find("  int y = x * 3;\n  return y - 1;\n") != std::string::npos);
}

TEST_CASE("overlapping blocks: the second fails to match after the first consumed its text") {
  Genome g = Parent();
  std::string proposal =
      "<<<<<<< SEARCH\n"
      "int step(int x) {\n"
      "  return x + 1;\n"
      "=======\n"
      "int step(int x) {\n"
      "  return x + 5;\n"
      ">>>>>>> REPLACE\n"
      "<<<<<<< SEARCH\n"
      "  return x + 1;\n"
      "}\n"
      "=======\n"
      "  return x + 9;\n"
      "}\n"
      ">>>>>>> REPLACE\n";
  auto child = ApplyProposal(g, proposal);
  REQUIRE(!child.has_value());
  CHECK(child.error().kind == EditErrorKind::kNoMatch);
  CHECK(child.error().block == 1);
  CHECK(child.error().message.find("edit 2") != std::string::npos);
}

TEST_CASE("ambiguous SEARCH text is an error that names every place") {
  auto g = Genome::Parse("a\nx = 1;\nb\nx = 1;\n");
  REQUIRE(g.has_value());
  auto child = ApplyProposal(*g, "<<<<<<< SEARCH\nx = 1;\n=======\nx = 2;\n>>>>>>> REPLACE\n");
  REQUIRE(!child.has_value());
  CHECK(child.error().kind == EditErrorKind::kAmbiguous);
  CHECK(child.error().message.find("lines 2, 4") != std::string::npos);
}

TEST_CASE("a whole file in a fence is taken - the longest fence wins") {
  auto g = Genome::Parse("int main() { return 0; }\n");
  REQUIRE(g.has_value());
  std::string proposal =
      "Here is a tiny helper:\n```\nls -la\n```\n"
      "And the new learner:\n```cpp\n#include <cstdio>\nint main() {\n  std::puts(\"hi\");\n  return 0;\n}\n```\n";
  auto child = ApplyProposal(*g, proposal);
  REQUIRE_MESSAGE(child.has_value(), (child ? "" : child.error().message));
  CHECK(child->source() == "#include <cstdio>\nint main() {\n  std::puts(\"hi\");\n  return 0;\n}\n");
}

TEST_CASE("a whole file may not change frozen text when blocks exist and the task forbids it") {
  Genome g = Parent();
  std::string changed = kParent;
  changed.replace(changed.find("return 1;"), 9, "return 2;");
  auto child = ApplyProposal(g, "```cpp\n" + changed + "```\n");
  REQUIRE(!child.has_value());
  CHECK(child.error().kind == EditErrorKind::kWholeFileRefused);
  // The same whole file changing only block text is fine.
  std::string inside = kParent;
  inside.replace(inside.find("x + 1"), 5, "x + 4");
  CHECK(ApplyProposal(g, "```cpp\n" + inside + "```\n").has_value());
}

TEST_CASE("prose with no code - malformed blocks and no-op edits are errors") {
  Genome g = Parent();
  auto none = ApplyProposal(g, "I think the learning rate should be lower, maybe 0.05.");
  REQUIRE(!none.has_value());
  CHECK(none.error().kind == EditErrorKind::kNoEdit);

  auto nodiv = ApplyProposal(g, "<<<<<<< SEARCH\n  return x + 1;\n>>>>>>> REPLACE\n");
  REQUIRE(!nodiv.has_value());
  CHECK(nodiv.error().kind == EditErrorKind::kMalformed);

  auto noend = ApplyProposal(g, "<<<<<<< SEARCH\n  return x + 1;\n=======\n  return 0;\n");
  REQUIRE(!noend.has_value());
  CHECK(noend.error().kind == EditErrorKind::kMalformed);
  CHECK(noend.error().message.find("line 1") != std::string::npos);

  auto same = ApplyProposal(g, "<<<<<<< SEARCH\n  return x + 1;\n=======\n  return x + 1;   \n>>>>>>> REPLACE\n");
  REQUIRE(!same.has_value());
  CHECK(same.error().kind == EditErrorKind::kNoChange);

  auto empty = ApplyProposal(g, "<<<<<<< SEARCH\n=======\nint z;\n>>>>>>> REPLACE\n");
  REQUIRE(!empty.has_value());
  CHECK(empty.error().kind == EditErrorKind::kNoMatch);
}

TEST_CASE("unified diff: empty for equal texts - hunks with context otherwise") {
  CHECK(UnifiedDiff("a\nb\n", "a\r\nb\r\n").empty());
  std::string from, to;
  for (int i = 1; i <= 20; ++i) {
    from += "line " + std::to_string(i) + "\n";
    to += (i == 10 ? std::string("changed 10") : "line " + std::to_string(i)) + "\n";
  }
  to += "line 21\n";
  std::string d = UnifiedDiff(from, to);
  CHECK(d ==
        "--- a\n+++ b\n"
        "@@ -7,7 +7,7 @@\n line 7\n line 8\n line 9\n-line 10\n+changed 10\n line 11\n line 12\n line 13\n"
        "@@ -18,3 +18,4 @@\n line 18\n line 19\n line 20\n+line 21\n");
}

TEST_CASE("unified diff: nearby changes share a hunk - an empty side has length 0") {
  std::string d = UnifiedDiff("a\nb\nc\nd\n", "a\nB\nc\nD\n", {1, "x", "y"});
  CHECK(d == "--- x\n+++ y\n@@ -1,4 +1,4 @@\n a\n-b\n+B\n c\n-d\n+D\n");
  CHECK(UnifiedDiff("", "new\n") == "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+new\n");
}

TEST_CASE("the down flag is parsed and kept by WithKnob") {
  auto g = Genome::Parse("int h = 200;  // KNOB hidden 200 range 8 512 int log down\n");
  REQUIRE_MESSAGE(g.has_value(), (g ? "" : g.error()));
  CHECK(g->FindKnob("hidden")->prefer_lower);
  CHECK(g->FindKnob("hidden")->log_scale);
  auto g2 = g->WithKnob("hidden", 120);
  REQUIRE(g2.has_value());
  CHECK(g2->FindKnob("hidden")->prefer_lower);
  CHECK(g2->source() == "int h = 120;  // KNOB hidden 120 range 8 512 int log down\n");
}

TEST_CASE("an edit of a knob's literal that leaves its comment alone carries the comment along") {
  // The edit a new user's model made (issue 14): the literal changes, the
  // KNOB comment does not. It used to fail with "must appear exactly once".
  auto g = Genome::Parse("constexpr int kMaxRows = 1000;  // KNOB rows 1000 range 20 1000 int log down\n"
                         "constexpr double kLr = 0.1;  // KNOB lr 0.1 range 0.01 1.0 log\n"
                         "int main() { return kMaxRows > 0 ? 0 : 1; }\n");
  REQUIRE(g.has_value());
  auto child = ApplyProposal(*g, "<<<<<<< SEARCH\nconstexpr int kMaxRows = 1000;  // KNOB rows 1000 range 20 1000 int log down\n"
                                 "=======\nconstexpr int kMaxRows = 500;  // KNOB rows 1000 range 20 1000 int log down\n"
                                 ">>>>>>> REPLACE\n");
  REQUIRE_MESSAGE(child.has_value(), (child ? "" : child.error().message));
  REQUIRE(child->FindKnob("rows") != nullptr);
  CHECK(child->FindKnob("rows")->value == 500);
  CHECK(child->FindKnob("rows")->prefer_lower);
  // Only the value changed; the rest of the comment is as written.
  CHECK(child->source().find("// KNOB rows 500 range 20 1000 int log down\n") != std::string::npos);
  // Outside the declared range: the range widens to hold the model's value.
  const std::string lr = "  // KNOB lr 0.1 range 0.01 1.0 log\n";
  auto wide = ApplyProposal(*g, "<<<<<<< SEARCH\nconstexpr double kLr = 0.1;" + lr + "=======\nconstexpr double kLr = 2.5;" +
                                    lr + ">>>>>>> REPLACE\n");
  REQUIRE_MESSAGE(wide.has_value(), (wide ? "" : wide.error().message));
  CHECK(wide->FindKnob("lr")->value == 2.5);
  CHECK(wide->FindKnob("lr")->hi == 2.5);
  // Nothing to follow when the line holds two literals: the error stays.
  auto two = ApplyProposal(*g, "<<<<<<< SEARCH\nconstexpr double kLr = 0.1;" + lr +
                                   "=======\nconstexpr double kLr = 0.2 * 3;" + lr + ">>>>>>> REPLACE\n");
  REQUIRE_FALSE(two.has_value());
  CHECK(two.error().message.find("exactly once") != std::string::npos);
}

#include <random>

#include "genome/similarity.h"

TEST_CASE("token similarity: comments and layout do not count - a changed constant does - LCS is exact") {
  using ergon::genome::NormalisedTokens;
  using ergon::genome::TokenSimilarity;
  const std::string a = "int main() {\n  int x = 1000; // rows\n  return x * 2;\n}\n";
  const std::string reformatted = "/* the same */ int main(){ int x=1000;\n\n\treturn x*2; }  // nothing new\n";
  const std::string knob = "int main() {\n  int x = 500; // rows\n  return x * 2;\n}\n";
  CHECK(TokenSimilarity(NormalisedTokens(a), NormalisedTokens(reformatted)) == 1.0);
  const double s = TokenSimilarity(NormalisedTokens(a), NormalisedTokens(knob));
  CHECK(s < 1.0);
  CHECK(s > 0.9);
  CHECK(NormalisedTokens("x = 1.5e-3f;").size() == 4);  // x, =, 1.5e-3f, ;
  CHECK(NormalisedTokens("s = \"a // not a comment\";").size() == 4);
  // The bit-parallel LCS against the textbook table, across word boundaries.
  std::mt19937_64 rng(7);
  for (int round = 0; round < 40; ++round) {
    std::vector<std::uint64_t> x(rng() % 200), y(rng() % 200);
    for (auto& t : x) t = rng() % 5;
    for (auto& t : y) t = rng() % 5;
    std::vector<std::vector<int>> d(x.size() + 1, std::vector<int>(y.size() + 1, 0));
    for (std::size_t i = 1; i <= x.size(); ++i)
      for (std::size_t j = 1; j <= y.size(); ++j)
        d[i][j] = x[i - 1] == y[j - 1] ? d[i - 1][j - 1] + 1 : std::max(d[i - 1][j], d[i][j - 1]);
    const double want = x.empty() && y.empty() ? 1.0 : 2.0 * d[x.size()][y.size()] / static_cast<double>(x.size() + y.size());
    CHECK(TokenSimilarity(x, y) == doctest::Approx(want));
  }
}

namespace {

// The fence rule read line by line, as the edit code once did: a line that
// starts with ``` opens, the next line that is ``` alone closes, the longest
// block wins, an unclosed fence ends the search.
std::optional<std::string> LongestFenceLineByLine(const std::string& text) {
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < text.size();) {
    auto nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  auto trim = [](const std::string& l) {
    auto b = l.find_first_not_of(" \t\r\n\v\f");
    if (b == std::string::npos) return std::string();
    return l.substr(b, l.find_last_not_of(" \t\r\n\v\f") - b + 1);
  };
  std::optional<std::string> best;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (trim(lines[i]).rfind("```", 0) != 0) continue;
    std::string body;
    std::size_t j = i + 1;
    while (j < lines.size() && trim(lines[j]) != "```") body += lines[j++] + "\n";
    if (j >= lines.size()) break;
    if (!best || body.size() > best->size()) best = body;
    i = j;
  }
  if (best && trim(*best).empty()) return std::nullopt;
  return best;
}

}  // namespace

TEST_CASE("the fenced file is found by search exactly as line by line, on 5,000 random replies") {
  const char* pieces[] = {"```", "```cpp", "  ```  ", "````", "x```", "int a;", "", " ", "text ``` text", "\t```"};
  std::mt19937 rng(7);
  int files = 0;
  for (int n = 0; n < 5000; ++n) {
    std::string reply;
    const int k = static_cast<int>(rng() % 12);
    for (int i = 0; i < k; ++i) reply += std::string(pieces[rng() % 10]) + "\n";
    if (rng() % 4 == 0 && !reply.empty()) reply.pop_back();  // no final newline
    const auto want = LongestFenceLineByLine(reply);
    auto got = ParseProposal(reply);
    if (want) {
      ++files;
      REQUIRE_MESSAGE(got.has_value(), reply);
      REQUIRE_MESSAGE(got->whole_file.has_value(), reply);
      CHECK_MESSAGE(*got->whole_file == *want, reply);
    } else {
      CHECK_MESSAGE(!(got && got->whole_file), reply);
    }
  }
  CHECK(files > 500);
}

TEST_CASE("knobs and markers after megabytes of generated lines keep their line numbers") {
  std::string big = "#include <cstdio>\nstatic const char* kText = R\"IR(";
  for (int i = 0; i < 200000; ++i) big += "add " + std::to_string(i) + ",1,2\n";
  big += ")IR\";\n";
  const int offset = 200002;  // the lines above
  const std::string tail = kParent;
  auto g = Genome::Parse(big + tail);
  REQUIRE_MESSAGE(g.has_value(), (g ? "" : g.error()));
  auto small = Parent();
  REQUIRE(g->knobs().size() == small.knobs().size());
  for (std::size_t i = 0; i < small.knobs().size(); ++i) {
    CHECK(g->knobs()[i].name == small.knobs()[i].name);
    CHECK(g->knobs()[i].comment_line == small.knobs()[i].comment_line + offset);
    CHECK(g->knobs()[i].code_line == small.knobs()[i].code_line + offset);
  }
  REQUIRE(g->blocks().size() == 1);
  CHECK(g->blocks()[0].start_line == small.blocks()[0].start_line + offset);
  CHECK(g->blocks()[0].end_line == small.blocks()[0].end_line + offset);
  // A knob with nothing but blank lines after it, far down, is still an error.
  auto bad = Genome::Parse(big + "// KNOB k 3 range 1 9 int\n\n  \n");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error() == "line " + std::to_string(offset + 1) + ": knob 'k' has no code line after it");
}

