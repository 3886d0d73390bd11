// The interpreter discovery the marshal tests rely on (tests/lib/test_interpreters.h):
// what it reports is what each interpreter says of itself, one entry per real
// path, CPythons >= 3.8 and PyPys told apart.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "test_interpreters.h"

namespace pycemit::testing {
namespace {

namespace fs = std::filesystem;

TEST(DiscoveryInterpreters, ReportsWhatEachInterpreterSaysOfItself) {
  const auto all = installed_interpreters();
  ASSERT_FALSE(all.empty());
  for (const auto& interpreter : all) {
    SCOPED_TRACE(interpreter.label());
    const std::string said =
        run_and_capture({interpreter.path, "-S", "-c",
                         "import sys; print(sys.implementation.name, '%d.%d.%d' % sys.version_info[:3])"});
    EXPECT_EQ(said, interpreter.implementation + " " + interpreter.version() + "\n");
    if (interpreter.is_cpython()) {
      EXPECT_GE(interpreter.minor, 8);
    }
    EXPECT_TRUE(interpreter.is_cpython() || interpreter.is_pypy());
    EXPECT_EQ(interpreter.major, 3);
    std::cout << "[ found    ] " << interpreter.label() << "\n";
  }
}

TEST(DiscoveryInterpreters, OnePerRealPathCPythonsFirstOldestFirst) {
  const auto all = installed_interpreters();
  std::set<std::string> real_paths;
  for (const auto& interpreter : all) {
    EXPECT_TRUE(real_paths.insert(fs::canonical(interpreter.path).string()).second)
        << interpreter.label() << " is listed twice";
  }
  for (std::size_t i = 1; i < all.size(); ++i) {
    const auto& a = all[i - 1];
    const auto& b = all[i];
    EXPECT_FALSE(a.is_pypy() && b.is_cpython()) << "CPythons come first";
    if (a.implementation == b.implementation) {
      EXPECT_LE(std::make_tuple(a.major, a.minor, a.micro), std::make_tuple(b.major, b.minor, b.micro));
    }
  }
  const auto cpythons = installed_cpython_interpreters();
  const auto pypys = installed_pypys();
  EXPECT_EQ(cpythons.size() + pypys.size(), all.size());
  for (const auto& c : cpythons) EXPECT_TRUE(c.is_cpython());
  for (const auto& p : pypys) EXPECT_TRUE(p.is_pypy());
}

TEST(DiscoveryInterpreters, IncludesTheCPythonsOfInterpretersPy) {
  // installed_cpythons() (what interpreters.py lists) is a subset, by real path.
  std::set<std::string> all_real;
  for (const auto& interpreter : installed_cpython_interpreters()) {
    all_real.insert(fs::canonical(interpreter.path).string());
  }
  for (const auto& path : installed_cpythons()) {
    EXPECT_TRUE(all_real.count(fs::canonical(path).string())) << path;
  }
}

TEST(DiscoveryInterpreters, FindsTheToolDirectoryInterpreters) {
  // Every /opt/pycemit-test-tools/*/bin/python3.N and pypy3 that runs is found
  // (under whichever path reaches it first).
  std::set<std::string> all_real;
  for (const auto& interpreter : installed_interpreters()) all_real.insert(fs::canonical(interpreter.path).string());
  const fs::path tools = "/opt/pycemit-test-tools";
  std::error_code error;
  int checked = 0;
  for (const auto& tool : fs::directory_iterator(tools, error)) {
    for (const auto& entry : fs::directory_iterator(tool.path() / "bin", error)) {
      const std::string name = entry.path().filename().string();
      const bool wanted = name == "pypy3" || (name.rfind("python3.", 0) == 0 && name.size() > 8 &&
                                              name.find_first_not_of("0123456789", 8) == std::string::npos);
      if (!wanted) continue;
      ++checked;
      EXPECT_TRUE(all_real.count(fs::canonical(entry.path()).string())) << entry.path();
    }
  }
  if (checked == 0) GTEST_SKIP() << "no " << tools << " on this machine";
}

}  // namespace
}  // namespace pycemit::testing
