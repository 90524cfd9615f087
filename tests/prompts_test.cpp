#include <doctest/doctest.h>

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
