// The compile cache on disk (local_compile_cache.h): entries round-trip
// atomically, unsafe directories are refused, and trim removes the least
// recently used entries first.
#include "pycemit/local_compile_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "pycemit/file_io.h"
#include "pycemit/plan.h"
#include "test_tree.h"

namespace pycemit {
namespace {

using testing::TempTree;

std::string key(char c) { return std::string(64, c); }

// Sets the last use of `key`'s entry to `seconds` after the epoch.
void set_used(const std::string& directory, const std::string& k, long seconds) {
  const std::string path = directory + "/v1/" + k.substr(0, 2) + "/" + k;
  const struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

TEST(LocalCompileCache, CreatesAPrivateTaggedDirectoryAndRoundTripsEntries) {
  TempTree tree;
  const std::string dir = tree / "cache/compile";
  ::umask(0002);  // a group-writable umask must not make the cache group-writable
  LocalCompileCache cache(dir);
  ::umask(0022);
  EXPECT_EQ(stat_path(dir)->st_mode & 07777, 0755u);
  EXPECT_EQ(stat_path(dir + "/v1")->st_mode & 07777, 0755u);
  EXPECT_EQ(read_file(dir + "/CACHEDIR.TAG").substr(0, 43), "Signature: 8a477f597d28d172789f06886806bc55");

  EXPECT_EQ(cache.load(key('a')), std::nullopt);
  cache.store(key('a'), "entry bytes");
  EXPECT_EQ(read_file(dir + "/v1/aa/" + key('a')), "entry bytes");
  EXPECT_EQ(cache.load(key('a')), "entry bytes");
  cache.store(key('a'), "new bytes");
  EXPECT_EQ(cache.load(key('a')), "new bytes");
  EXPECT_EQ(cache.usage().entries, 1u);
  EXPECT_EQ(cache.usage().bytes, 9u);
  cache.drop(key('a'));
  EXPECT_EQ(cache.load(key('a')), std::nullopt);
}

TEST(LocalCompileCache, RefusesADirectoryOthersCanWrite) {
  TempTree tree;
  const std::string dir = tree.mkdir("shared");
  ::chmod(dir.c_str(), 0777);
  try {
    LocalCompileCache cache(dir);
    FAIL() << "a world-writable cache was opened";
  } catch (const PlanError& e) {
    EXPECT_NE(
        std::string(e.what()).find("refusing the compile cache " + dir + ": it is writable by other users (mode 0777)"),
        std::string::npos)
        << e.what();
  }
  ::chmod(dir.c_str(), 0755);
  LocalCompileCache{dir};
  ::chmod((dir + "/v1").c_str(), 0775);
  EXPECT_THROW(LocalCompileCache{dir}, PlanError);
  EXPECT_THROW(LocalCompileCache{tree.write("file", "")}, PlanError);
}

TEST(LocalCompileCache, TrimRemovesTheLeastRecentlyUsedFirst) {
  TempTree tree;
  LocalCompileCache cache(tree / "cache");
  for (char c : {'a', 'b', 'c', 'd'}) cache.store(key(c), std::string(100, c));
  set_used(cache.directory(), key('a'), 4000);
  set_used(cache.directory(), key('b'), 1000);
  set_used(cache.directory(), key('c'), 3000);
  set_used(cache.directory(), key('d'), 2000);

  const LocalCacheUsage removed = cache.trim(250);
  EXPECT_EQ(removed.entries, 2u);
  EXPECT_EQ(removed.bytes, 200u);
  EXPECT_EQ(cache.load(key('b')), std::nullopt);
  EXPECT_EQ(cache.load(key('d')), std::nullopt);
  EXPECT_TRUE(cache.load(key('a')));
  EXPECT_TRUE(cache.load(key('c')));
  EXPECT_EQ(cache.trim(1000).entries, 0u);
}

TEST(LocalCompileCache, ALoadIsAUse) {
  TempTree tree;
  LocalCompileCache cache(tree / "cache");
  cache.store(key('a'), "a");
  cache.store(key('b'), "b");
  set_used(cache.directory(), key('a'), 1000);
  set_used(cache.directory(), key('b'), 2000);
  ASSERT_TRUE(cache.load(key('a')));  // now the most recently used
  cache.trim(1);
  EXPECT_TRUE(cache.load(key('a')));
  EXPECT_EQ(cache.load(key('b')), std::nullopt);
}

TEST(LocalCompileCache, ClearAndTrimSweepAbandonedTemporaries) {
  TempTree tree;
  LocalCompileCache cache(tree / "cache");
  cache.store(key('a'), "a");
  cache.store(key('b'), "bb");
  const std::string abandoned = tree.write("cache/v1/aa/" + key('a') + ".12345.pycemit-tmp", "half an ent");
  const LocalCacheUsage removed = cache.clear();
  EXPECT_EQ(removed.entries, 2u);
  EXPECT_EQ(removed.bytes, 3u);
  EXPECT_FALSE(stat_path(abandoned));
  EXPECT_EQ(cache.usage().entries, 0u);
}

}  // namespace
}  // namespace pycemit
