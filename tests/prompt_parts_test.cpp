// The pieces of a proposal prompt (engine/prompt_parts.h, hot_spots.h), and
// the stated budget of a whole rendered prompt in its worst case.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "evaluators/hot_spots.h"
#include "engine/prompt_parts.h"
#include "prompts/render.h"
#include "slurp.h"

using namespace ergon;
using engine::PromptInput;

namespace {

evaluators::TaskSpec Spec() {
  evaluators::TaskSpec s;
  s.name = "toy";
  s.description = "d";
  s.gate_metric = "accuracy";
  s.gate_min = 0.95;
  s.minimise = "energy_j";
  s.whole_file = true;
  return s;
}

archive::Row Row(std::int64_t id, std::optional<std::int64_t> parent, const std::string& source, double energy,
                 const std::string& components = "") {
  archive::Row r;
  r.candidate.id = id;
  r.candidate.parent = parent;
  r.candidate.source = source;
  r.candidate.source_bytes = source.size();
  r.candidate.intent = "intent of " + std::to_string(id);
  archive::Evaluation e;
  e.gate_passed = true;
  e.metrics.values = {{"accuracy", 1.0}, {"energy_j", energy}};
  e.metrics.components = components;
  r.best = e;
  return r;
}

std::string Lines(int n, const std::string& tag) {
  std::string s;
  for (int i = 0; i < n; ++i) s += tag + " line " + std::to_string(i) + " of a long program, padded out a little\n";
  return s;
}

}  // namespace

TEST_CASE("a rendered prompt stays within the stated budget, whatever the archive holds") {
  const auto spec = [] {
    auto s = Spec();
    s.description = std::string(50000, 'd');  // a task.json with a novel in it
    return s;
  }();
  PromptInput in;
  in.spec = &spec;
  in.task_facts = std::string(20000, 'f');
  in.knob_rule = "knobs";
  // A megabyte parent, inspirations whose diffs have thousands of hunks, and
  // failures that quote megabytes of proposal.
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "x" + std::to_string(i) + "\n";
  std::string changed = big;
  for (std::size_t at = 0; (at = changed.find("x1", at)) != std::string::npos; at += 2) changed[at] = 'y';
  in.parent = Row(5, 4, big + big + big, 1.0, R"({"l1_j": 1, "profile": {"total_j": 1, "functions": [{"name": ")" +
                                                  std::string(100000, 'n') + R"(", "j": 1, "share": 1}]}})");
  for (int i = 0; i < 3; ++i) in.inspirations.push_back({Row(10 + i, 9, changed, 0.5), Row(9, std::nullopt, big, 1.0), false});
  for (int i = 0; i < 3; ++i) {
    archive::AttemptRow a;
    a.stage = "edit/no_match";
    a.error = std::string(100000, 'e');
    a.proposal = std::string(100000, 'p') + "<<<<<<< SEARCH\n" + std::string(100000, 's');
    in.failures.push_back(a);
  }
  const auto vars = engine::PromptVars(in);
  std::size_t total = 0;
  for (const char* t : {"system.txt", "mutate.txt"}) {
    auto r = prompts::Render(Slurp(std::filesystem::path(ERGON_PROMPTS_DIR) / t), vars);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error()));
    total += r->size();
  }
  CHECK(total <= engine::kPromptBudget);
  CHECK(total > engine::kParentSourceBudget);  // the parent's source is most of it
  // Every name the engine fills is one the templates may use (and none is missing).
  for (const auto& n : engine::PromptVarNames()) CHECK((vars.count(n) || n == "error"));
}

TEST_CASE("an inspiration's diff is cut at whole hunks, with what was left out said") {
  const std::string from = Lines(400, "a");
  std::string to = from;
  for (int i = 0; i < 400; i += 20) {
    const std::string old = "a line " + std::to_string(i) + " ";
    to.replace(to.find(old), old.size(), "b line " + std::to_string(i) + " ");
  }
  const std::string d = engine::DiffWithinBudget(from, to, "candidate 1", "candidate 2", 1200);
  CHECK(d.size() <= 1200 + 80);
  CHECK(d.find("--- candidate 1") != std::string::npos);
  CHECK(d.find("more hunks (") != std::string::npos);
  // Every hunk shown is whole: as many '@@' headers as complete hunk bodies.
  const auto last_hunk = d.rfind("@@ ");
  REQUIRE(last_hunk != std::string::npos);
  CHECK(d.find("truncated") == std::string::npos);
  CHECK(engine::DiffWithinBudget(from, to, "a", "b", 1000000).find("not shown") == std::string::npos);
}

TEST_CASE("standing, inspirations and failures say what a model needs") {
  const auto spec = Spec();
  const auto parent = Row(7, 1, "p", 0.5);
  const std::string s = engine::Standing(spec, parent.best, 7, engine::Landmark{1, 2.0}, engine::Landmark{9, 0.01});
  CHECK(s.find("0.25x the baseline's (candidate 1)") != std::string::npos);
  CHECK(s.find("best so far (candidate 9)") != std::string::npos);
  CHECK(s.find("0.005x the baseline") != std::string::npos);
  CHECK(s.find("50x the best's") != std::string::npos);
  CHECK(engine::Standing(spec, parent.best, 1, engine::Landmark{1, 0.5}, std::nullopt).find("is the baseline") !=
        std::string::npos);

  const auto before = Row(1, std::nullopt, "int x = 1;\n", 2.0, R"({"instructions_j": 1, "l1_j": 1, "ll_j": 0, "dram_j": 0})");
  const auto after = Row(2, 1, "int x = 2;\n", 1.05, R"({"instructions_j": 1, "l1_j": 0.05, "ll_j": 0, "dram_j": 0})");
  const std::string insp = engine::InspirationText(spec, after, before, false);
  CHECK(insp.find("intent of 2") != std::string::npos);
  CHECK(insp.find("energy_j changed -47.5%") != std::string::npos);
  CHECK(insp.find("L1 -95%") != std::string::npos);
  CHECK(insp.find("+int x = 2;") != std::string::npos);

  archive::AttemptRow dup;
  dup.stage = "duplicate";
  dup.error = "same source as candidate 2";
  dup.proposal = "Use two rows fewer.\n<<<<<<< SEARCH\nint rows = 10;\n=======\nint rows = 8;\n>>>>>>> REPLACE\n";
  const std::string f = engine::FailureText(dup);
  CHECK(f.find("duplicate: same source as candidate 2") != std::string::npos);
  CHECK(f.find("it proposed: \"Use two rows fewer.\"") != std::string::npos);
  CHECK(f.find("int rows = 8;") != std::string::npos);
}

TEST_CASE("hot spots are read from the stored profile and quote the source line") {
  const std::string comp =
      R"({"l1_j": 1, "profile": {"total_j": 2.0, "functions": [{"name": "train", "j": 1.5, "share": 0.75,
          "instructions_j": 0.5, "l1_j": 1.0, "ll_j": 0, "dram_j": 0}],
          "lines": [{"line": 2, "j": 1.2, "share": 0.6, "instructions_j": 0.2, "l1_j": 1.0, "ll_j": 0, "dram_j": 0}]}})";
  const std::string t = evaluators::HotSpotsText(comp, "int main() {\n  for (;;) sum += x[i];\n}\n", 5);
  CHECK(t.find("function train: 75.0% (instructions 33%, L1 67%)") != std::string::npos);
  CHECK(t.find("line 2: 60.0%") != std::string::npos);
  CHECK(t.find("`for (;;) sum += x[i];`") != std::string::npos);
  CHECK(evaluators::HotSpotsText(R"({"l1_j": 1})", "", 5).empty());
  CHECK(evaluators::HotSpotsText("not json", "", 5).empty());
}

#include "engine/meta_summary.h"

TEST_CASE("the digest: what helped most, what hurt most, and how proposals failed") {
  std::vector<archive::ChildOutcome> kids;
  auto kid = [&](std::int64_t id, const std::string& intent, double parent_metric, double metric,
                 const std::string& status = "evaluated") {
    archive::ChildOutcome c;
    c.id = id;
    c.parent = 1;
    c.intent = intent;
    c.status = archive::ParseCandidateStatus(status).value();
    c.gate_passed = c.parent_gate_passed = true;
    c.fitness = -metric;
    c.parent_fitness = -parent_metric;
    kids.push_back(c);
  };
  kid(2, "read half the rows", 1.0, 0.5);
  kid(3, "read half the rows", 1.0, 0.6);  // the same change again: listed once
  kid(4, "a wider hidden layer", 1.0, 1.3);
  kid(5, "float instead of double", 1.0, 0.9);
  kid(6, "broken", 1.0, 1.0, "failed");
  const std::string d = engine::MetaSummary(kids, {{"edit/no_match", 4}, {"novelty", 1}}, "energy_j");
  INFO(d);
  CHECK(d.find("Of the last 5 children: 3 beat their parent, 1 did worse, 0 lost the gate, 1 failed") != std::string::npos);
  const auto helped = d.find("Changes that helped most:"), hurt = d.find("Changes that hurt most:");
  REQUIRE(helped != std::string::npos);
  REQUIRE(hurt != std::string::npos);
  CHECK(d.find("energy_j -50.0%: \"read half the rows\" (candidate 2)") > helped);
  CHECK(d.find("(candidate 3)") == std::string::npos);
  CHECK(d.find("energy_j +30.0%: \"a wider hidden layer\"") > hurt);
  CHECK(d.find("4 edit/no_match, 1 novelty") != std::string::npos);
  CHECK(engine::MetaSummary({}, {}, "energy_j").empty());
}

#include "evaluators/dally/ir.h"
#include <nlohmann/json.hpp>

TEST_CASE("dally_parity: the IR's cost by operation, by address band and by address, from the compiler") {
  // Reads: xor 3,1,2 reads 1 and 2 (cost 1 + 2); and 4,3,3 reads 3 twice
  // (2 + 2); the output line reads 4 (2). Total 9.
  evaluators::dally::IrCostProfile p;
  auto prog = evaluators::dally::CompileIr("1,2\nxor 3,1,2\nand 4,3,3\n4\n", 100, &p);
  REQUIRE(prog.has_value());
  CHECK(prog->cost == 9);
  const std::string comp = R"({"lines": 4, "ir_profile": )" + p.Json(8) + "}";
  const std::string t = evaluators::HotSpotsText(comp, "", 5);
  INFO(t);
  CHECK(t.find("where the cost goes (9 in all)") != std::string::npos);
  CHECK(t.find("and 44.4%, xor 33.3%, output line 22.2%") != std::string::npos);
  CHECK(t.find("1-4: 5, 100.0%") != std::string::npos);
  CHECK(t.find(" 3 (2 reads, 44.4%)") != std::string::npos);
  CHECK(t.find(" 4 (1 reads, 22.2%)") != std::string::npos);
}

TEST_CASE("a Dally board's prompt gives its order's lower bound beside the cost profile") {
  evaluators::dally::IrCostProfile p;
  auto prog = evaluators::dally::CompileIr("1,2\nxor 3,1,2\nand 4,3,3\n4\n", 100, &p);
  REQUIRE(prog.has_value());
  auto profile = nlohmann::json::parse(p.Json(8));
  const std::string without = evaluators::HotSpotsText(R"({"ir_profile": )" + profile.dump() + "}", "", 5);
  CHECK(without.find("lower") == std::string::npos);
  CHECK(without.find("costs less than") == std::string::npos);
  profile["lower_bound"] = 8;
  const std::string with = evaluators::HotSpotsText(R"({"ir_profile": )" + profile.dump() + "}", "", 5);
  INFO(with);
  CHECK(with.find("no address layout of this instruction order costs less than 8 (11.11% below this program)") !=
        std::string::npos);
}
