// The worker bootstrap program, tool/bootstrap/worker.py, embedded at build time
// (tool/bootstrap/embed.cmake writes its definition).
#pragma once

#include <string_view>

namespace pycemit {

// The Python source of the worker program (UTF-8 text).
std::string_view bootstrap_source();

}  // namespace pycemit
