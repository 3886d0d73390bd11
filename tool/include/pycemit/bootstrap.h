// The bootstrap program, tool/bootstrap/compiler.py, embedded at build time
// (tool/bootstrap/embed.cmake writes its definition).
#pragma once

#include <string_view>

namespace pycemit {

// The Python source of the compiler program (UTF-8 text).
std::string_view bootstrap_source();

}  // namespace pycemit
