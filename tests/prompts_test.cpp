#include <doctest/doctest.h>

#include <map>

#include "prompts/render.h"

using ergon::prompts::Render;

TEST_CASE("placeholders are filled verbatim - never re-scanned") {
  auto r = Render("Task: {{task}}\nParent:\n{{source}}\n", {{"task", "parity"}, {"source", "x = {{task}};"}});
  REQUIRE(r.has_value());
  CHECK(*r == "Task: parity\nParent:\nx = {{task}};\n");
}

TEST_CASE("a placeholder without a value is an error naming it and its line") {
  auto r = Render("a\nb {{missing}}\n", {});
  REQUIRE(!r.has_value());
  CHECK(r.error() == "line 2: no value for placeholder {{missing}}");
  auto u = Render("x {{open", {});
  REQUIRE(!u.has_value());
  CHECK(u.error().find("without") != std::string::npos);
}

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {
std::string Template(const std::string& name) {
  std::ifstream f(std::filesystem::path(ERGON_PROMPTS_DIR) / name);
  REQUIRE_MESSAGE(f.good(), name);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("the shipped templates: every placeholder is one the engine fills") {
  // engine/prompt_parts.cpp's PromptVarNames(), which `ergon run` also
  // renders every template with before it spends anything.
  const std::map<std::string, std::string> engine_vars = {
      {"task_name", "t"}, {"task_description", "d"}, {"objective", "o"}, {"task_facts", "f"}, {"edit_rules", "r"},
      {"parent_id", "1"}, {"parent_metrics", "m"}, {"parent_standing", "p"}, {"parent_source", "s"},
      {"parent_hot_spots", "h"}, {"inspirations", "i"}, {"failures", "f"}, {"meta_summary", "s"}, {"error", "e"}};
  for (const char* name : {"system.txt", "mutate.txt", "repair.txt"}) {
    auto r = Render(Template(name), engine_vars);
    REQUIRE_MESSAGE(r.has_value(), name << ": " << (r ? "" : r.error()));
    CHECK(r->find("{{") == std::string::npos);
  }
  // Dropping any variable the mutate template uses is caught.
  auto partial = engine_vars;
  partial.erase("parent_source");
  CHECK(!Render(Template("mutate.txt"), partial).has_value());
}
