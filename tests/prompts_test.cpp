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
  const std::map<std::string, std::string> engine_vars = {
      {"task_name", "t"}, {"task_description", "d"}, {"objective", "o"}, {"edit_rules", "r"},
      {"parent_id", "1"}, {"parent_metrics", "m"}, {"parent_source", "s"}, {"inspirations", "i"},
      {"failures", "f"}, {"error", "e"}};
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

TEST_CASE("rendered prompts stay bounded: the templates add little to what the engine caps") {
  // The engine caps the parent source at 60,000 characters, each of 3
  // inspiration diffs at 3,000 and each of 3 failures at 600.
  std::map<std::string, std::string> v = {
      {"task_name", "t"}, {"task_description", std::string(1000, 'd')}, {"objective", "o"}, {"edit_rules", "r"},
      {"parent_id", "1"}, {"parent_metrics", "m"}, {"parent_source", std::string(60000, 's')},
      {"inspirations", std::string(3 * 3100, 'i')}, {"failures", std::string(3 * 650, 'f')}, {"error", "e"}};
  std::size_t total = Render(Template("system.txt"), v)->size() + Render(Template("mutate.txt"), v)->size();
  CHECK(total < 80000);
}
