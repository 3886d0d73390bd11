// The real interpreters the C++ tests run against: every installed CPython >= 3.8,
// found by tests/lib/interpreters.py (the one place that knows where to look).
#pragma once

#include <string>
#include <vector>

namespace pycemit::testing {

// Paths of every CPython >= 3.8, oldest first. Calls ADD_FAILURE() (the test
// fails, it is not skipped) and returns what it found when fewer than three are
// installed.
std::vector<std::string> installed_cpythons();

// Runs `argv` (no shell) and returns its standard output; fails the test on a
// non-zero exit. Standard error passes through.
std::string run_and_capture(const std::vector<std::string>& argv);

}  // namespace pycemit::testing
