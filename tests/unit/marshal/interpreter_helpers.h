// Shared helpers of the marshal tests that run real interpreters: temporary
// directories, files, the code layout of an interpreter, and the comparison of
// what streams and their canonical forms load to (compare_loaded.py).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "pycemit/marshal.h"
#include "test_interpreters.h"

namespace pycemit::marshal::testing {

namespace fs = std::filesystem;
using pycemit::testing::TestInterpreter;

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// A temporary directory, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "pycemit-marshal-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The code layout the interpreter's marshal.dumps() writes (marshal.h,
// CodeLayout): CPython by minor version, PyPy 3.9 in the CPython 3.8 layout,
// PyPy 3.11 in its own. Throws std::invalid_argument for any other PyPy (not
// checked) or an unsupported CPython.
inline CodeLayout layout_of(const TestInterpreter& interpreter) {
  if (interpreter.is_cpython()) return code_layout_for_minor(interpreter.minor);
  if (interpreter.is_pypy() && interpreter.minor == 9) return CodeLayout::Py38;
  if (interpreter.is_pypy() && interpreter.minor == 11) return CodeLayout::PyPy311;
  throw std::invalid_argument("no known code layout for " + interpreter.label());
}

inline const char* compare_script() { return PYCEMIT_SOURCE_DIR "/tests/unit/marshal/compare_loaded.py"; }

// Runs compare_loaded.py on `dir` in `python`: fails the test for every
// mismatch and returns the names that loaded identically.
inline std::set<std::string> compare_loaded(const std::string& python, const fs::path& dir) {
  const std::string report = pycemit::testing::run_and_capture({python, "-S", compare_script(), dir.string()});
  std::set<std::string> ok;
  std::istringstream lines(report);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("OK ", 0) == 0) {
      ok.insert(line.substr(3));
    } else {
      ADD_FAILURE() << line;
    }
  }
  return ok;
}

}  // namespace pycemit::marshal::testing
