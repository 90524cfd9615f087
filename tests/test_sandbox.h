// Test helper: one default sandbox per test process, made on first use (a
// failure to make it fails the test that asked, with the reason).
#pragma once

#include <doctest/doctest.h>

#include "sandbox/sandbox.h"

inline const ergon::sandbox::Sandbox& TestSandbox() {
  static const ergon::sandbox::Sandbox sb = [] {
    auto s = ergon::sandbox::Sandbox::Create();
    REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error()));
    return *s;
  }();
  return sb;
}
