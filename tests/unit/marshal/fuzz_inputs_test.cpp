// The fuzzer's committed inputs, replayed without the fuzzer (which needs
// clang): tests/fuzz/regressions/ (inputs that once found a bug) and
// tests/fuzz/seeds/ (real interpreters' output in the formats the fuzzer must
// start from). Each must keep the properties tests/fuzz/marshal_fuzz.cpp checks;
// the seeds must also be read in their interpreter's layout.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "helpers.h"
#include "interpreter_helpers.h"

namespace pycemit::marshal::testing {
namespace {

constexpr CodeLayout kLayouts[] = {CodeLayout::Py38, CodeLayout::Py311, CodeLayout::PyPy311};

std::vector<fs::path> inputs_in(const char* directory) {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(fs::path(PYCEMIT_SOURCE_DIR) / directory)) {
    if (entry.path().extension() == ".bin") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::optional<BodyInspection> inspected(const std::string& data, CodeLayout layout) {
  try {
    return inspect_body(data, layout);
  } catch (const MarshalError&) {
    return std::nullopt;
  }
}

// marshal_fuzz.cpp's check_layout(), with test failures instead of abort().
void keeps_the_fuzzers_properties(const std::string& input, CodeLayout layout) {
  std::string once;
  try {
    once = canonicalize(input, layout);
  } catch (const MarshalError&) {
    return;
  }
  EXPECT_EQ(canonicalize(once, layout), once) << "not idempotent";
  if (!input.empty() && (static_cast<unsigned char>(input[0]) & 0x7f) == 'c') {
    const auto before = inspected(input, layout);
    const auto after = inspected(once, layout);
    ASSERT_EQ(before.has_value(), after.has_value()) << "inspect_body accepts only one of the two forms";
    if (before) {
      EXPECT_EQ(before->canonical, input == once);
      EXPECT_TRUE(after->canonical);
    }
  }
}

TEST(MarshalFuzzInputs, RegressionsAndSeedsKeepTheFuzzersProperties) {
  std::size_t count = 0;
  for (const char* directory : {"tests/fuzz/regressions", "tests/fuzz/seeds"}) {
    for (const auto& path : inputs_in(directory)) {
      const std::string input = read_file(path);
      for (CodeLayout layout : kLayouts) {
        SCOPED_TRACE(path.filename().string() + " in layout " + std::to_string(static_cast<int>(layout)));
        keeps_the_fuzzers_properties(input, layout);
      }
      ++count;
    }
  }
  EXPECT_GE(count, 10u);
}

TEST(MarshalFuzzInputs, SeedsAreReadInTheirInterpretersLayout) {
  // "<implementation>-3.<minor>-<name>.bin", as tests/fuzz/make_seeds.py names them.
  for (const auto& path : inputs_in("tests/fuzz/seeds")) {
    const std::string name = path.filename().string();
    SCOPED_TRACE(name);
    CodeLayout layout = CodeLayout::Py311;
    if (name.rfind("pypy-3.9-", 0) == 0) {
      layout = CodeLayout::Py38;
    } else if (name.rfind("pypy-3.11-", 0) == 0) {
      layout = CodeLayout::PyPy311;
    } else {
      ASSERT_EQ(name.rfind("cpython-3.15-", 0), 0u) << "unexpected seed name";
    }
    const std::string input = read_file(path);
    EXPECT_NO_THROW(canonicalize(input, layout));
    if (input[0] == 'c' || static_cast<unsigned char>(input[0]) == ('c' | 0x80)) {
      EXPECT_NO_THROW(inspect_body(input, layout));
    }
  }
}

}  // namespace
}  // namespace pycemit::marshal::testing
