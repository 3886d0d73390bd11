#include "pycemit/stat_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "pycemit/file_io.h"
#include "test_tree.h"

namespace pycemit {
namespace {

using namespace std::chrono_literals;

class StatCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("PYCEMIT_CACHE_DIR", cache_dir_.path().c_str(), 1);
    source_ = tree_.write("m.py", "x = 1\n");
    pyc_ = tree_.write("__pycache__/m.cpython-312.pyc", "pyc bytes");
    // Older than the racy window of a cache created from now on.
    std::this_thread::sleep_for(std::chrono::nanoseconds(StatCache::kRacyWindowNs) + 20ms);
  }
  void TearDown() override { ::unsetenv("PYCEMIT_CACHE_DIR"); }

  // A cache of this context with `source` recorded current, saved.
  void record_and_save(const std::string& context = "context") {
    StatCache cache(context);
    cache.record(source_, *identity_of(source_, true), {pyc_}, {false});
    cache.save();
  }
  bool unchanged(const std::string& context = "context") {
    StatCache cache(context);
    cache.load();
    return cache.unchanged(source_, {pyc_});
  }

  testing::TempTree cache_dir_, tree_;
  std::string source_, pyc_;
};

TEST_F(StatCacheTest, UnchangedFilesAreRecognisedAfterSaveAndLoad) {
  record_and_save();
  EXPECT_TRUE(unchanged());
  EXPECT_FALSE(unchanged("another context")) << "a context has its own file";
  StatCache cache("context");
  cache.load();
  EXPECT_FALSE(cache.unchanged(source_, {pyc_, pyc_})) << "other outputs";
  EXPECT_FALSE(cache.unchanged(tree_ / "other.py", {pyc_}));
}

TEST_F(StatCacheTest, AnEditWithTheSameSizeAndMtimeIsSeen) {
  record_and_save();
  struct stat before {};
  ASSERT_EQ(::stat(source_.c_str(), &before), 0);
  write_file_atomically(source_ + ".new", "x = 2\n", 0644);  // same size
  ASSERT_EQ(::rename((source_ + ".new").c_str(), source_.c_str()), 0);
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, source_.c_str(), times, 0), 0);  // mtime restored: ctime is not
  EXPECT_FALSE(unchanged());
}

TEST_F(StatCacheTest, AnOutputEditedInPlaceOrReplacedIsSeen) {
  record_and_save();
  const int fd = ::open(pyc_.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "P", 1), 1);  // same size, same inode
  ::close(fd);
  EXPECT_FALSE(unchanged());
  record_and_save();
  std::this_thread::sleep_for(10ms);
  ASSERT_EQ(::unlink(pyc_.c_str()), 0);
  EXPECT_FALSE(unchanged());
}

TEST_F(StatCacheTest, RacyFilesAreNotRecorded) {
  StatCache cache("context");      // the run starts now
  tree_.write("m.py", "x = 3\n");  // changed within the racy window of the run's start
  cache.record(source_, *identity_of(source_, true), {pyc_}, {false});
  cache.save();
  EXPECT_FALSE(unchanged());
}

TEST_F(StatCacheTest, OutputsWrittenInTheRunAreRecorded) {
  StatCache cache("context");
  tree_.write("__pycache__/m.cpython-312.pyc", "fresh pyc");  // this run wrote it
  cache.record(source_, *identity_of(source_, true), {pyc_}, {true});
  cache.save();
  EXPECT_TRUE(unchanged());
}

TEST_F(StatCacheTest, KeptEntriesSurviveAndOthersAreDropped) {
  record_and_save();
  {
    StatCache cache("context");
    cache.load();
    ASSERT_TRUE(cache.unchanged(source_, {pyc_}));
    cache.keep(source_);
    cache.save();
  }
  EXPECT_TRUE(unchanged());
  {
    StatCache cache("context");
    cache.load();
    cache.save();  // this run saw nothing: its record is empty
  }
  EXPECT_FALSE(unchanged());
}

TEST_F(StatCacheTest, ACorruptOrMissingCacheMeansACheckInFull) {
  record_and_save();
  StatCache probe("context");
  ASSERT_FALSE(probe.path().empty());
  std::string data = read_file(probe.path());
  data.resize(data.size() - 5);
  write_file_atomically(probe.path(), data, 0644);
  EXPECT_FALSE(unchanged());
  write_file_atomically(probe.path(), "garbage", 0644);
  EXPECT_FALSE(unchanged());
  const char* home = std::getenv("HOME");
  const std::string saved_home = home ? home : "";
  ::unsetenv("PYCEMIT_CACHE_DIR");
  ::setenv("HOME", "relative", 1);  // no usable cache directory at all
  ::unsetenv("XDG_CACHE_HOME");
  StatCache none("context");
  EXPECT_TRUE(none.path().empty());
  none.save();  // silently nothing
  ::setenv("HOME", saved_home.c_str(), 1);
}

}  // namespace
}  // namespace pycemit
