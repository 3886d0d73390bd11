#include "pycemit/file_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_tree.h"

namespace pycemit {
namespace {

TEST(FileIo, AtomicWriteCreatesAndReplacesWithImportlibMode) {
  testing::TempTree t;
  const std::string path = t / "a.pyc";
  const mode_t old_umask = ::umask(022);
  write_file_atomically(path, "first", pyc_mode_for_source(0755));
  EXPECT_EQ(read_file(path), "first");
  EXPECT_EQ(stat_path(path)->st_mode & 0777, 0644u);  // (0755 | 0200) & 0666, then umask
  write_file_atomically(path, std::string("sec\0nd", 6), 0600);
  EXPECT_EQ(read_file(path), std::string("sec\0nd", 6));
  ::umask(old_umask);
  EXPECT_EQ(pyc_mode_for_source(0444), 0644u);
  EXPECT_EQ(pyc_mode_for_source(0600), 0600u);
}

TEST(FileIo, FailedWriteLeavesTheOldFileAndNoTemporary) {
  testing::TempTree t;
  const std::string path = t.write("d/a.pyc", "good");
  EXPECT_THROW(write_file_atomically(t / "missing-dir/a.pyc", "x", 0644), FileError);
  // Rename onto a directory fails: the temporary file must be gone, the target intact.
  t.mkdir("d/dir.pyc");
  EXPECT_THROW(write_file_atomically(t / "d/dir.pyc", "x", 0644), FileError);
  EXPECT_EQ(read_file(path), "good");
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(t / "d")) ++entries;
  EXPECT_EQ(entries, 2);
}

TEST(FileIo, RefusesNonRegularOutputs) {
  testing::TempTree t;
  t.write("real", "x");
  ASSERT_EQ(::symlink((t / "real").c_str(), (t / "link.pyc").c_str()), 0);
  t.mkdir("dir.pyc");
  EXPECT_THROW(refuse_non_regular_output(t / "link.pyc"), FileError);
  EXPECT_THROW(refuse_non_regular_output(t / "dir.pyc"), FileError);
  EXPECT_NO_THROW(refuse_non_regular_output(t / "real"));
  EXPECT_NO_THROW(refuse_non_regular_output(t / "absent"));
}

TEST(FileIo, HardlinksAtomically) {
  testing::TempTree t;
  const std::string a = t.write("a.pyc", "same");
  const std::string b = t.write("b.pyc", "old");
  link_file_atomically(a, b);
  EXPECT_EQ(stat_path(a)->st_ino, stat_path(b)->st_ino);
  EXPECT_EQ(read_file(b), "same");
}

TEST(FileIo, MakeDirectories) {
  testing::TempTree t;
  make_directories(t / "x/y/__pycache__");
  EXPECT_TRUE(S_ISDIR(stat_path(t / "x/y/__pycache__")->st_mode));
  t.write("file", "");
  EXPECT_THROW(make_directories(t / "file/sub"), FileError);
}

TEST(FileIo, RemovesOnlyTemporariesNoLiveWriterHoldsLocked) {
  testing::TempTree t;
  const std::string abandoned = t.write("a.pyc.0123456789abcdef.pycemit-tmp", "partial");
  const std::string held = t.write("b.pyc.fedcba9876543210.pycemit-tmp", "being written");
  t.write("c.pyc", "keep");
  // A live writer in another process: it holds the lock until it is killed.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t writer = ::fork();
  if (writer == 0) {
    const int fd = ::open(held.c_str(), O_RDONLY);
    ::flock(fd, LOCK_EX);
    [[maybe_unused]] auto n = ::write(ready[1], "x", 1);
    ::pause();
    ::_exit(0);
  }
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  EXPECT_EQ(remove_stale_temporaries(t.path()), 1);
  EXPECT_FALSE(stat_path(abandoned));
  EXPECT_TRUE(stat_path(held)) << "a live writer's temporary file stays";
  ::kill(writer, SIGKILL);
  ::waitpid(writer, nullptr, 0);
  EXPECT_EQ(remove_stale_temporaries(t.path()), 1) << "its writer died: it goes";
  EXPECT_TRUE(stat_path(t / "c.pyc"));
}

TEST(FileIo, AtomicWritesLeaveNoTemporaryAndUseFreshNames) {
  testing::TempTree t;
  for (int i = 0; i < 50; ++i) write_file_atomically(t / "x.pyc", std::to_string(i), 0644);
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(t.path())) ++entries;
  EXPECT_EQ(entries, 1);
  EXPECT_EQ(read_file(t / "x.pyc"), "49");
}

TEST(FileIo, ReadErrorsNameThePath) {
  testing::TempTree t;
  try {
    read_file(t / "nope.py");
    FAIL();
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.py: cannot read: No such file"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_file(t.path()), FileError);
  EXPECT_EQ(read_file_prefix(t / "nope", 4), std::nullopt);
}

}  // namespace
}  // namespace pycemit
