// What a module's functions return across its edge: a value, or why not in
// words for the person running ergon. No exception leaves a module.
#pragma once

#include <string>

#include <tl/expected.hpp>

namespace ergon::base {

template <class T>
using Result = tl::expected<T, std::string>;

}  // namespace ergon::base
