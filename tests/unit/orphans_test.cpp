#include "pycemit/orphans.h"

#include <gtest/gtest.h>

#include "test_tree.h"

namespace pycemit {
namespace {

TEST(Orphans, PycacheOrphansOfAnyTagButNotSourcelessPycs) {
  testing::TempTree t;
  t.write("pkg/a.py", "");
  t.write("pkg/w.pyw", "");
  t.write("pkg/__pycache__/a.cpython-312.pyc", "");
  t.write("pkg/__pycache__/a.cpython-38.opt-1.pyc", "");
  t.write("pkg/__pycache__/w.cpython-312.pyc", "");
  t.write("pkg/__pycache__/gone.cpython-312.pyc", "");
  t.write("pkg/__pycache__/gone.cpython-39.opt-2.pyc", "");
  t.write("pkg/__pycache__/notes.txt", "");
  t.write("pkg/sourceless.pyc", "");
  LocationOptions given;
  given.source_root = t.path();
  const auto loc = resolve_locations(given, Layout::Pycache);
  EXPECT_EQ(find_orphaned_pycs({t.path()}, Layout::Pycache, loc),
            (std::vector<std::string>{t / "pkg/__pycache__/gone.cpython-312.pyc",
                                      t / "pkg/__pycache__/gone.cpython-39.opt-2.pyc"}));
  EXPECT_TRUE(find_orphaned_pycs({t.path()}, Layout::Sourceless, loc).empty());
  EXPECT_EQ(find_legacy_pycs({t.path()}), (std::vector<std::string>{t / "pkg/sourceless.pyc"}));
}

TEST(Orphans, PrefixTreeOrphansMirrorTheSourceTree) {
  testing::TempTree t;
  t.write("src/pkg/a.py", "");
  LocationOptions given;
  given.source_root = t / "src";
  given.pycache_prefix = t / "cache";
  const auto loc = resolve_locations(given, Layout::Prefix);
  const std::string mirror = t.path() + "/cache" + t.path() + "/src";
  t.write(*relative_to(mirror + "/pkg/a.cpython-312.pyc", t.path()), "");
  t.write(*relative_to(mirror + "/pkg/b.cpython-312.pyc", t.path()), "");
  EXPECT_EQ(find_orphaned_pycs({t / "src"}, Layout::Prefix, loc),
            (std::vector<std::string>{mirror + "/pkg/b.cpython-312.pyc"}));
}

}  // namespace
}  // namespace pycemit
