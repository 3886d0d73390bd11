// The real interpreters the C++ tests run against, as tests/lib/interpreters.py
// finds them (the one place that knows where to look: pyenv's versions,
// /usr/bin/python3.N, /usr/bin/pypy3, /opt/pycemit-test-tools/*/bin), one per
// real path.
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

// Paths of every CPython >= 3.8, oldest first. Calls ADD_FAILURE() (the test fails, it is not skipped) and returns
// what it found when fewer than three are installed.
std::vector<std::string> installed_cpythons();

// Every target interpreter (CPython and PyPy >= 3.8): CPythons first, then
// PyPys, each oldest version first. Found once per process. Calls ADD_FAILURE() when fewer than three CPythons are
// found.
std::vector<TestInterpreter> installed_interpreters();

// installed_interpreters() filtered: the CPythons (>= 3.8) / the PyPys. The
// PyPy list may be empty; a test that needs one decides what that means.
std::vector<TestInterpreter> installed_cpython_interpreters();
std::vector<TestInterpreter> installed_pypys();

// Runs `argv` (no shell) and returns its standard output; fails the test on a
// non-zero exit. Standard error passes through.
std::string run_and_capture(const std::vector<std::string>& argv);

}  // namespace pycemit::testing
