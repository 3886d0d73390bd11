// The standard library of every installed interpreter, CPython 3.8-3.15 and
// PyPy (3.9 and 3.11), compiled at optimization levels 0, 1 and 2 by that
// interpreter (dump_library.py): the canonical bytes of what its marshal.dumps()
// wrote must load, in the same interpreter, to code objects identical to the
// originals (compare_loaded.py: every co_* attribute, constants by exact type
// and bits), be a fixed point, and be decided by the inspection walk as
// canonicalize() decides.
//
// A sample of files per interpreter (kDefaultFiles, spread over the sorted
// list) keeps the unit test fast; PYCEMIT_MARSHAL_LIBRARY_FILES=all (or a
// number) runs the whole library by hand:
//   PYCEMIT_MARSHAL_LIBRARY_FILES=all build/tests/pycemit_marshal_tests --gtest_filter='MarshalLibraryInterpreters.*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "interpreter_helpers.h"
#include "test_interpreters.h"

namespace pycemit::marshal::testing {
namespace {

using pycemit::testing::installed_cpython_interpreters;
using pycemit::testing::installed_pypys;
using pycemit::testing::run_and_capture;

constexpr const char* kDefaultFiles = "20";

const char* dump_script() { return PYCEMIT_SOURCE_DIR "/tests/unit/marshal/dump_library.py"; }

std::string file_count() {
  const char* from_environment = std::getenv("PYCEMIT_MARSHAL_LIBRARY_FILES");
  return from_environment != nullptr && *from_environment != '\0' ? from_environment : kDefaultFiles;
}

// One interpreter's library: what the header says.
void check_library(const TestInterpreter& python) {
  SCOPED_TRACE(python.label());
  const CodeLayout layout = layout_of(python);
  TempDir dir;
  const std::string listing = run_and_capture({python.path, "-S", dump_script(), dir.path().string(), file_count()});
  std::vector<std::pair<std::string, std::string>> streams;  // name, source path
  int skipped = 0;
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    if (line.substr(0, tab) == "SKIP") {
      ++skipped;
    } else {
      streams.emplace_back(line.substr(0, tab), line.substr(tab + 1));
    }
  }
  ASSERT_GE(streams.size(), 30u) << "too few library files compiled";
  int changed = 0;
  for (const auto& [name, source] : streams) {
    SCOPED_TRACE(name + " " + source);
    const std::string raw = read_file(dir.path() / (name + ".bin"));
    std::string canonical;
    try {
      canonical = canonicalize(raw, layout);
    } catch (const MarshalError& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    EXPECT_EQ(canonicalize(canonical, layout), canonical) << "not idempotent";
    const BodyInspection of_raw = inspect_body(raw, layout);
    EXPECT_EQ(of_raw.canonical, raw == canonical);
    EXPECT_TRUE(inspect_body(canonical, layout).canonical);
    EXPECT_EQ(of_raw.code_filename, source);
    changed += canonical != raw;
    write_file(dir.path() / (name + ".canon"), canonical);
  }
  // The interpreter's own bytes are not canonical (FLAG_REF by refcount or by
  // identity): otherwise this test would prove nothing.
  EXPECT_GT(changed, 0);
  // The other layouts do not read its code objects: the fields do not line up.
  const std::string first = read_file(dir.path() / (streams.front().first + ".bin"));
  for (CodeLayout other : {CodeLayout::Py38, CodeLayout::Py311, CodeLayout::PyPy311}) {
    if (other != layout) {
      EXPECT_THROW(canonicalize(first, other), MarshalError);
    }
  }
  const std::set<std::string> ok = compare_loaded(python.path, dir.path());
  for (const auto& [name, source] : streams)
    EXPECT_TRUE(ok.count(name)) << name << " (" << source << ") was not verified";
  std::cout << "[ library  ] " << python.label() << ": " << streams.size() << " streams (" << file_count()
            << " files asked, " << skipped << " not compilable), " << changed << " changed, " << ok.size()
            << " loaded identical\n";
}

TEST(MarshalLibraryInterpreters, EveryCPythonsLibrary) {
  const auto pythons = installed_cpython_interpreters();
  EXPECT_GE(pythons.size(), 3u);
  for (const auto& python : pythons) check_library(python);
}

// Skipped where no PyPy is installed.
TEST(MarshalLibraryInterpreters, EveryPyPysLibrary) {
  const auto pypys = installed_pypys();
  if (pypys.empty()) GTEST_SKIP() << "no PyPy installed";
  for (const auto& pypy : pypys) check_library(pypy);
}

}  // namespace
}  // namespace pycemit::marshal::testing
