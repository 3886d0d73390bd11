// A code object as CPython 3.12 marshals it, checked in as hex, for the tests
// that need an interpreter's output without running one (compile_run_test.cpp,
// freshness_test.cpp), and CPython 3.12's interpreter facts.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "pycemit/interpreter.h"

namespace pycemit::testing {

// marshal.dumps(compile("x = 1\n", "pkg/mod.py", "exec", dont_inherit=True))
// from CPython 3.12.1: the same at every optimization level. Byte 54 starts the
// co_filename: 0xfa (short ASCII str with FLAG_REF), length 10, "pkg/mod.py".
inline constexpr const char* kModuleHex =
    "e30000000000000000000000000100000000000000f308000000970064005a0079012902e9010000004e2901da0178a900f30000"
    "0000fa0a706b672f6d6f642e7079fa083c6d6f64756c653e720700000001000000730a000000f003010101d8040581017205000000";
inline constexpr std::size_t kFilenameOffset = 54;
inline constexpr std::string_view kCannedFilename = "pkg/mod.py";

inline std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// The canned code object with `filename` (ASCII, below 256 bytes) as its
// co_filename: the string's length byte and text are replaced.
inline std::string code_for(const std::string& filename) {
  std::string code = from_hex(kModuleHex);
  if (code.substr(kFilenameOffset + 2, kCannedFilename.size()) != kCannedFilename) throw std::logic_error("kModuleHex");
  code.replace(kFilenameOffset + 1, 1 + kCannedFilename.size(),
               std::string(1, static_cast<char>(filename.size())) + filename);
  return code;
}

// CPython 3.12's facts, as its handshake reports them.
inline InterpreterInfo cpython312() {
  InterpreterInfo info;
  info.executable = "/nonexistent/python3.12";
  info.implementation = "cpython";
  info.major = 3, info.minor = 12, info.micro = 1;
  info.cache_tag = "cpython-312";
  info.magic = {0xcb, 0x0d, 0x0d, 0x0a};  // 3531
  info.marshal_version = 4;
  // CPython 3.12.1's importlib.util.source_hash(b"x = 1\n") (docs/pyc-format.md, section 3).
  info.source_hashes = {{"x = 1\n", std::string("\x15\x22\x56\x19\x17\xf5\xdf\x08", 8)}};
  decide_format(info);
  return info;
}

}  // namespace pycemit::testing
