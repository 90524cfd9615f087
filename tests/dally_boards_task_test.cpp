// The Dally boards as task folders (evaluators/matmul4x4, matmul16x16,
// symmetry6, symmetry8, mask32_20..80): found by the registry, their
// published programs scored to the published costs through the Task
// interface, wrong candidates refused with their line, and the in-process
// search step that the offline agent runs (never dearer unless asked to step
// sideways; always checked).
#include <filesystem>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "evaluators/dally/board.h"
#include "evaluators/dally/board_search.h"
#include "evaluators/dally/ir.h"
#include "evaluators/task.h"
#include "genome/genome.h"
#include "slurp.h"
#include "test_sandbox.h"

using namespace ergon::evaluators;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<Task> OpenTask(const std::string& name) {
  static const TaskRegistry reg = TaskRegistry::Load(ERGON_SOURCE_DIR, {});
  auto t = reg.Open(name);
  REQUIRE_MESSAGE(t.has_value(), (t ? "" : t.error()));
  return std::move(*t);
}

Measurement Eval(const Task& task, const std::string& source) {
  TaskEvalRequest q;
  q.source = source;
  return task.Evaluate(TestSandbox(), q);
}

std::string Baseline(const Task& t) {
  const std::string text = Slurp(fs::path(t.spec().dir) / t.spec().baseline);
  REQUIRE_FALSE(text.empty());
  return text;
}

// The schoolbook 4x4 product (tests/data/dally/SOURCE.md): correct, cost 1,485.
std::string Naive4x4() {
  const std::string text = Slurp(fs::path(ERGON_DALLY_DATA) / "matmul/naive_4x4.ir");
  REQUIRE_FALSE(text.empty());
  return text;
}

// A temporary task folder with this task.json and a baseline.ir.
struct TempTask {
  fs::path dir;
  explicit TempTask(const std::string& json) {
    dir = fs::temp_directory_path() / fmt::format("ergon-board-task-{}", ::getpid());
    fs::remove_all(dir);
    fs::create_directories(dir / "board");
    std::ofstream(dir / "board" / "task.json") << json;
    std::ofstream(dir / "board" / "baseline.ir") << "1,2\ncmp 3,1,2,eq\n3\n";
  }
  ~TempTask() { fs::remove_all(dir); }
};

}  // namespace

TEST_CASE("every Dally board is a task folder whose published program scores its published cost" *
          doctest::test_suite("fast")) {
  const TaskRegistry reg = TaskRegistry::Load(ERGON_SOURCE_DIR, {});
  for (const auto& [name, cost] : std::vector<std::pair<std::string, double>>{
           {"matmul4x4", 667}, {"matmul16x16", 63290}, {"symmetry6", 20}, {"symmetry8", 29}}) {
    CAPTURE(name);
    REQUIRE(reg.Find(name) != nullptr);
    auto task = OpenTask(name);
    CHECK(task->spec().language == "ir");
    const Measurement m = Eval(*task, Baseline(*task));
    REQUIRE_MESSAGE(m.ran, m.error);
    CHECK(m.gate_passed);
    CHECK(m.metrics.at("cost") == cost);
    CHECK(m.fitness == -cost);
    CHECK(m.meter == "dally");
    CHECK(m.device == "static");
    // The cost profile and the order's bound, for an agent's prompt.
    const auto c = nlohmann::json::parse(m.components);
    REQUIRE(c.contains("ir_profile"));
    CHECK(c["ir_profile"]["total"].get<double>() == cost);
    CHECK(c["ir_profile"]["lower_bound"].get<double>() <= cost);
    CHECK(task->AgentFacts("dally").find(name.rfind("matmul", 0) == 0 ? "add, sub, mul" : "all ") != std::string::npos);
  }
  // The bounds measured on the records (shared/conformance/dally/matmul/NOTES.md).
  CHECK(Eval(*OpenTask("matmul4x4"), Baseline(*OpenTask("matmul4x4"))).metrics.at("lower_bound") == 664);
}

TEST_CASE("the MASK32 bands are generator tasks, each with its own gate, on dally_parity's suites" *
          doctest::test_suite("fast")) {
  const TaskRegistry reg = TaskRegistry::Load(ERGON_SOURCE_DIR, {});
  for (int band : {20, 40, 60, 80}) {
    const TaskSpec* s = reg.Find(fmt::format("mask32_{}", band));
    REQUIRE(s != nullptr);
    CHECK(s->language == "ir-generator");
    CHECK(s->gate_metric == "recovery");
    CHECK(s->gate_min == doctest::Approx(band / 100.0));
    CHECK(fs::canonical(s->dally_suites) == fs::canonical(fs::path(ERGON_SOURCE_DIR) / "evaluators/dally_parity/suites"));
    CHECK(reg.Open(s->name).has_value());
  }
  // dally_parity is the 100% band; its suites are its own folder's.
  REQUIRE(reg.Find("dally_parity") != nullptr);
  CHECK(reg.Find("dally_parity")->gate_min == 1.0);
  CHECK(fs::path(reg.Find("dally_parity")->dally_suites) == fs::path(reg.Find("dally_parity")->dir) / "suites");
}

TEST_CASE("a wrong IR candidate is refused through the task, with its line" * doctest::test_suite("fast")) {
  auto task = OpenTask("matmul4x4");
  const std::string record = Baseline(*task);
  std::vector<std::string> lines;
  std::istringstream in(record);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  auto join = [](const std::vector<std::string>& ls) {
    std::string s;
    for (const auto& l : ls) s += l + "\n";
    return s;
  };
  const int last = static_cast<int>(lines.size());
  SUBCASE("swapped outputs") {
    auto bad = lines;
    auto& out = bad.back();
    const auto c1 = out.find(','), c2 = out.find(',', c1 + 1), c3 = out.find(',', c2 + 1);
    out = out.substr(0, c1 + 1) + out.substr(c2 + 1, c3 - c2 - 1) + "," + out.substr(c1 + 1, c2 - c1 - 1) + out.substr(c3);
    const Measurement m = Eval(*task, join(bad));
    CHECK_FALSE(m.ran);
    CHECK(m.stage == "check");
    CHECK(m.error.find(fmt::format("line {}: output 2 is not C[0][1]", last)) == 0);
  }
  SUBCASE("a degree-3 product") {
    // Right after the first product d = a*b, multiply d by its input a again.
    auto bad = lines;
    std::size_t i = 1;
    while (bad[i].rfind("mul", 0) != 0) ++i;
    std::string d, a;
    std::istringstream ops(bad[i].substr(4));
    std::getline(ops, d, ',');
    std::getline(ops, a, ',');
    bad.insert(bad.begin() + static_cast<long>(i) + 1, fmt::format("mul 999,{},{}", d, a));
    const Measurement m = Eval(*task, join(bad));
    INFO(m.error);
    CHECK_FALSE(m.ran);
    CHECK(m.error == fmt::format("line {}: mul of a degree-2 and a degree-1 value makes degree 3; matmul allows at most 2",
                                 i + 2));
  }
  SUBCASE("a read of an address never written") {
    auto bad = lines;
    bad.insert(bad.begin() + 3, "add 40,1,777");
    const Measurement m = Eval(*task, join(bad));
    CHECK_FALSE(m.ran);
    CHECK(m.stage == "ir");
    CHECK(m.error.find("line 4:") == 0);
    CHECK(m.error.find("777") != std::string::npos);
  }
  SUBCASE("an op outside the board's instruction set") {
    auto bad = lines;
    bad.insert(bad.begin() + 5, "xor 40,1,2");
    const Measurement m = Eval(*task, join(bad));
    CHECK_FALSE(m.ran);
    CHECK(m.error == "line 6: op 'xor' is not in instruction set v0 (copy, add, sub, mul)");
  }
  SUBCASE("a symmetry program wrong on one pattern") {
    auto sym = OpenTask("symmetry6");
    const Measurement m = Eval(*sym, "1,2,3,4,5,6\ncmp 1,1,6,eq\ncmp 2,2,5,eq\nand 1,2\n1\n");
    CHECK_FALSE(m.ran);
    CHECK(m.stage == "check");
    CHECK(m.error.find("pattern") != std::string::npos);
  }
  SUBCASE("not IR at all") {
    const Measurement m = Eval(*task, "#include <cstdio>\nint main() {}\n");
    CHECK_FALSE(m.ran);
    CHECK(m.error.find("line 1") == 0);
  }
}

TEST_CASE("task.json of a Dally board: the board is named and known" * doctest::test_suite("fast")) {
  const std::string head = R"({"summary": "s", "language": "ir", "objectives": {"gate": {"metric": "exact", "min": 1}, "minimise": "cost"})";
  {
    TempTask t(head + "}");
    auto s = ReadTaskSpec((t.dir / "board").string());
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().find("field \"dally.board\": an ir task names its board") != std::string::npos);
  }
  {
    TempTask t(head + R"(, "dally": {"board": "matmul3x4"}})");
    auto s = ReadTaskSpec((t.dir / "board").string());
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().find("(got 'matmul3x4')") != std::string::npos);
  }
  {
    TempTask t(head + R"(, "dally": {"board": "symmetry2", "size": 3}})");
    auto s = ReadTaskSpec((t.dir / "board").string());
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().find("dally.size") != std::string::npos);
  }
  {
    // A new board of a known family is a folder, no code: symmetry on 2 bits.
    TempTask t(head + R"(, "dally": {"board": "symmetry2"}})");
    auto reg = TaskRegistry::Load("", {t.dir.string()});
    REQUIRE(reg.problems().empty());
    auto task = reg.Open("board");
    REQUIRE(task.has_value());
    const Measurement m = Eval(**task, Slurp(t.dir / "board" / "baseline.ir"));
    REQUIRE_MESSAGE(m.ran, m.error);
    CHECK(m.metrics.at("cost") == 1 + 2 + 2);  // reads 1 and 2, then the output at 3
  }
}

TEST_CASE("the in-process step: cheaper and checked, the same for the same seed, sideways only when asked" *
          doctest::test_suite("fast")) {
  const dally::Board board = *dally::ParseBoard("matmul4x4");
  auto naive = dally::CompileIr(Naive4x4(), dally::kMask32LineCap);
  REQUIRE(naive.has_value());
  dally::BoardStepOptions o;
  o.moves = 1500;
  o.seed = 7;
  auto a = dally::ImproveBoardProgram(board, *naive, o);
  REQUIRE_MESSAGE(a.has_value(), (a ? "" : a.error()));
  CHECK(a->cost_after < naive->cost);
  CHECK(a->cost_after >= a->lower_bound);
  auto again = dally::ImproveBoardProgram(board, *naive, o);
  REQUIRE(again.has_value());
  CHECK(again->text == a->text);
  auto checked = dally::CheckBoard(board, *dally::CompileIr(a->text, dally::kMask32LineCap));
  REQUIRE(checked.has_value());
  CHECK(checked->cost == a->cost_after);

  // From the symmetry record nothing is cheaper: an error that says what was
  // tried, unless a sideways step is asked for.
  const dally::Board sym = *dally::ParseBoard("symmetry6");
  auto six = dally::CompileIr("1,2,3,4,5,6\ncmp 1,1,6,eq\ncmp 2,2,5,eq\ncmp 3,3,4,eq\nand 1,2\nand 1,3\n1\n", 100);
  REQUIRE(six.has_value());
  o.moves = 300;
  auto none = dally::ImproveBoardProgram(sym, *six, o);
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().find("nothing cheaper than 20 found") == 0);
  INFO(none.error());
  CHECK(none.error().find(" annealing moves by layout from seed 7") != std::string::npos);
  CHECK(none.error().find(", 200000 moves as written") != std::string::npos);
}

TEST_CASE("the offline agent's transformation of a board candidate: in-process, checked, seeded" *
          doctest::test_suite("fast")) {
  auto task = OpenTask("matmul4x4");
  const SourceTransform step = task->MakeTransform(nullptr);
  REQUIRE(step);
  const std::string naive = Naive4x4();
  auto a = step(naive, 1), b = step(naive, 2);
  REQUIRE_MESSAGE(a.has_value(), (a ? "" : a.error()));
  REQUIRE(b.has_value());
  const Measurement before = Eval(*task, naive), after = Eval(*task, *a);
  REQUIRE(after.ran);
  CHECK(after.metrics.at("cost") < before.metrics.at("cost"));
  CHECK(*step(naive, 1) == *a);
  // From the published record the step may go sideways (a dearer correct
  // neighbour for the population), never to a wrong program.
  auto side = step(Baseline(*task), 3);
  if (side) CHECK(Eval(*task, *side).ran);
  // A wrong parent is not searched from.
  auto wrong = step("1,2\nmul 3,1,2\n3\n", 1);
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().find("not a correct program") != std::string::npos);
}

TEST_CASE("a board's submission kit: the IR, its cost and check, its SHA-256 and lineage" * doctest::test_suite("fast")) {
  auto task = OpenTask("symmetry8");
  REQUIRE(task->HasSubmissionKit());
  const std::string ir = Baseline(*task);
  Task::SubmissionAbout about;
  about.title = "ergon candidate 3";
  about.method = "the published program";
  about.date = "2026-12-07";
  about.lineage = {"candidate 3: the baseline"};
  auto kit = task->SubmissionFiles(TestSandbox(), ir, about);
  REQUIRE_MESSAGE(kit.has_value(), (kit ? "" : kit.error()));
  CHECK(kit->at("program.ir") == ir);
  const std::string& r = kit->at("REPORT.md");
  INFO(r);
  CHECK(r.find("**Cost:** 29") != std::string::npos);
  CHECK(r.find("all 256 patterns") != std::string::npos);
  CHECK(r.find(ergon::base::Sha256Hex(ir)) != std::string::npos);
  CHECK(r.find("- candidate 3: the baseline") != std::string::npos);
  CHECK(r.find("ergon score program.ir --tier symmetry8") != std::string::npos);
  // A wrong program gets no kit.
  CHECK_FALSE(task->SubmissionFiles(TestSandbox(), "1,2,3,4,5,6,7,8\n1\n", about).has_value());
}
