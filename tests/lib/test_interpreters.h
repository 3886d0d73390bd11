// The real interpreters the C++ tests run against.
//
// Two lists:
//   - installed_cpythons(): every CPython >= 3.8 that tests/lib/interpreters.py
//     finds (pyenv's versions, /usr/bin/python3.N, /usr/local/bin/python3.N):
//     the interpreters the integration tests use too, which pycemit as a whole
//     must support;
//   - installed_interpreters(): those, plus /opt/pycemit-test-tools/*/bin/python3.N
//     (newer CPythons, e.g. 3.14 and 3.15) and the PyPys (/usr/bin/pypy3,
//     /opt/pycemit-test-tools/*/bin/pypy3, and a pypy3 on PATH), each probed for
//     its implementation and version. The marshal tests use these: the marshal
//     library reads more formats than the rest of pycemit accepts.
// Both are deduplicated by real path (a symlink and its target are one
// interpreter; the first path found is kept).
#pragma once

#include <string>
#include <vector>

namespace pycemit::testing {

// One interpreter that ran: `path -S -c` printed its sys.implementation.name
// and sys.version_info.
struct TestInterpreter {
  std::string path;            // as found (symlinks not resolved)
  std::string implementation;  // "cpython" or "pypy"
  int major = 0;
  int minor = 0;
  int micro = 0;

  bool is_cpython() const { return implementation == "cpython"; }
  bool is_pypy() const { return implementation == "pypy"; }
  // "3.11.7"
  std::string version() const;
  // "cpython 3.11.7 (/usr/bin/python3.11)": for messages and SCOPED_TRACE.
  std::string label() const;
};

// Paths of every CPython >= 3.8 that tests/lib/interpreters.py finds, oldest
// first. Calls ADD_FAILURE() (the test fails, it is not skipped) and returns
// what it found when fewer than three are installed.
std::vector<std::string> installed_cpythons();

// Every CPython >= 3.8 and every PyPy 3 found (see above), one per real path:
// CPythons first, then PyPys, each oldest version first (ties by path). Probed
// once per process. Calls ADD_FAILURE() when fewer than three CPythons are found.
std::vector<TestInterpreter> installed_interpreters();

// installed_interpreters() filtered: the CPythons (>= 3.8) / the PyPys. The
// PyPy list may be empty; a test that needs one decides what that means.
std::vector<TestInterpreter> installed_cpython_interpreters();
std::vector<TestInterpreter> installed_pypys();

// Runs `argv` (no shell) and returns its standard output; fails the test on a
// non-zero exit. Standard error passes through.
std::string run_and_capture(const std::vector<std::string>& argv);

}  // namespace pycemit::testing
