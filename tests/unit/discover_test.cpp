#include "pycemit/discover.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "test_tree.h"

namespace pycemit {
namespace {

std::vector<std::string> relative_paths(const Discovery& d, const std::string& root) {
  std::vector<std::string> out;
  for (const auto& s : d.sources) out.push_back(*relative_to(s.absolute, root));
  return out;
}

TEST(Discover, WalksSortedSkipsPycacheAndNonPy) {
  testing::TempTree t;
  t.write("b.py", "");
  t.write("a/z.py", "");
  t.write("a/__pycache__/x.py", "");
  t.write("a/notes.txt", "");
  t.write("a/m.pyw", "");
  t.mkdir("dir.py");  // a directory named like a source is walked, not read
  t.write("dir.py/inner.py", "");
  const auto d = discover_sources({t.path()}, {t.path(), {}, std::nullopt});
  EXPECT_TRUE(d.errors.empty());
  EXPECT_EQ(relative_paths(d, t.path()), (std::vector<std::string>{"a/z.py", "b.py", "dir.py/inner.py"}));
}

TEST(Discover, ExplicitFilesListsAndDuplicates) {
  testing::TempTree t;
  t.write("tool", "");
  t.write("x.py", "");
  std::ofstream(t / "list") << t / "tool"
                            << "\n\n"
                            << t / "x.py"
                            << "\r\n";
  const auto d = discover_sources({"@" + t / "list", t / "x.py"}, {t.path(), {}, std::nullopt});
  EXPECT_TRUE(d.errors.empty());
  EXPECT_EQ(relative_paths(d, t.path()), (std::vector<std::string>{"tool", "x.py"}));
}

TEST(Discover, Excludes) {
  testing::TempTree t;
  t.write("pkg/test/t.py", "");
  t.write("pkg/tests.py", "");
  t.write("pkg/keep.py", "");
  t.write("other/test/t.py", "");
  auto d = discover_sources({t.path()}, {t.path(), {"test"}, std::nullopt});
  EXPECT_EQ(relative_paths(d, t.path()), (std::vector<std::string>{"pkg/keep.py", "pkg/tests.py"}));
  d = discover_sources({t.path()}, {t.path(), {"pkg/test*"}, std::nullopt});
  EXPECT_EQ(relative_paths(d, t.path()), (std::vector<std::string>{"other/test/t.py", "pkg/keep.py"}));
  EXPECT_TRUE(exclude_matches("*.py", "a.py", "x/a.py"));
  EXPECT_FALSE(exclude_matches("x/*.py", "a.py", "y/a.py"));
}

TEST(Discover, ErrorsAreReportedAndTheRestGoesOn) {
  testing::TempTree t;
  t.write("ok.py", "");
  ASSERT_EQ(::symlink((t / "missing.py").c_str(), (t / "dangling.py").c_str()), 0);
  ASSERT_EQ(::mkfifo((t / "fifo.py").c_str(), 0644), 0);
  const auto d = discover_sources({t.path(), t / "nope.py", "@" + t / "no-list"}, {t.path(), {}, std::nullopt});
  EXPECT_EQ(relative_paths(d, t.path()), (std::vector<std::string>{"ok.py"}));
  ASSERT_EQ(d.errors.size(), 4u);
  std::string all;
  for (const auto& e : d.errors) all += e + "\n";
  EXPECT_NE(all.find("dangling.py: dangling symlink"), std::string::npos) << all;
  EXPECT_NE(all.find("fifo.py: not a regular file"), std::string::npos) << all;
  EXPECT_NE(all.find("nope.py: No such file or directory"), std::string::npos) << all;
  EXPECT_NE(all.find("no-list: cannot read path list"), std::string::npos) << all;
}

TEST(Discover, SymlinkLoopsAndStagingRootEscapes) {
  testing::TempTree t;
  t.write("stage/usr/lib/a.py", "");
  t.write("outside/evil.py", "");
  ASSERT_EQ(::symlink("..", (t / "stage/usr/lib/loop").c_str()), 0);
  ASSERT_EQ(::symlink((t / "outside/evil.py").c_str(), (t / "stage/usr/lib/evil.py").c_str()), 0);
  const std::string stage = t / "stage";
  const auto d = discover_sources({t / "stage/usr/lib"}, {stage, {}, stage});
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_NE(d.errors[0].find("points outside the staging root"), std::string::npos) << d.errors[0];
  // loop -> stage/usr is walked, but its lib/ is stage/usr/lib again: not re-entered.
  EXPECT_EQ(relative_paths(d, stage), (std::vector<std::string>{"usr/lib/a.py"}));
}

TEST(Discover, PathHelpers) {
  EXPECT_EQ(relative_to("/a/b/c", "/a"), "b/c");
  EXPECT_EQ(relative_to("/a", "/a"), "");
  EXPECT_EQ(relative_to("/ab/c", "/a"), std::nullopt);
  EXPECT_EQ(relative_to("/x", "/"), "x");
  EXPECT_EQ(absolute_path("/a/./b//c/../d/"), "/a/b/d");
}

}  // namespace
}  // namespace pycemit
