// Header encoding (PEP 552) and CPython's mtime truncation, the latter checked
// against real interpreters on real files.
#include "pycemit/pyc_header.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "test_interpreters.h"

namespace pycemit {
namespace {

TEST(PycHeader, EncodesEachMode) {
  PycHeader h;
  h.magic = {0xcb, 0x0d, '\r', '\n'};
  h.mode = InvalidationMode::Timestamp;
  h.stamp = SourceStamp{0x01020304, 0x0a0b0c0d};
  auto bytes = encode_header(h);
  EXPECT_EQ(as_chars(bytes), std::string_view("\xcb\x0d\r\n\0\0\0\0\x04\x03\x02\x01\x0d\x0c\x0b\x0a", 16));

  h.mode = InvalidationMode::CheckedHash;
  h.stamp.reset();
  h.hash = SourceHash{1, 2, 3, 4, 5, 6, 7, 8};
  bytes = encode_header(h);
  EXPECT_EQ(bytes[4], 3);
  EXPECT_EQ(bytes[8], 1);
  EXPECT_EQ(bytes[15], 8);
  h.mode = InvalidationMode::UncheckedHash;
  EXPECT_EQ(encode_header(h)[4], 1);
}

TEST(PycHeader, DecodeRoundTripsAndRejectsWhatImportRejects) {
  PycHeader h;
  h.magic = {0x0b, 0x0e, '\r', '\n'};
  h.mode = InvalidationMode::CheckedHash;
  h.hash = SourceHash{9, 8, 7, 6, 5, 4, 3, 2};
  const auto bytes = encode_header(h);
  EXPECT_EQ(decode_header(as_chars(bytes)), h);
  EXPECT_THROW(decode_header(as_chars(bytes).substr(0, 15)), std::runtime_error);
  std::string bad(as_chars(bytes));
  bad[4] = 4;  // a flag bit above bit 1
  EXPECT_THROW(decode_header(bad), std::runtime_error);
  bad[4] = 2;  // importlib reads this as a timestamp pyc
  EXPECT_EQ(decode_header(bad).mode, InvalidationMode::Timestamp);
  EXPECT_THROW(encode_header(PycHeader{h.magic, InvalidationMode::Timestamp, std::nullopt, std::nullopt}),
               std::invalid_argument);
}

TEST(PycHeader, ModeNames) {
  EXPECT_EQ(parse_invalidation_mode("checked-hash"), InvalidationMode::CheckedHash);
  EXPECT_EQ(parse_invalidation_mode("UNCHECKED_HASH"), InvalidationMode::UncheckedHash);
  EXPECT_EQ(parse_invalidation_mode("timestamp"), InvalidationMode::Timestamp);
  EXPECT_EQ(parse_invalidation_mode("sha256"), std::nullopt);
  EXPECT_EQ(to_string(InvalidationMode::UncheckedHash), "unchecked-hash");
}

TEST(PycHeader, StampTruncatesLikeCPython) {
  EXPECT_EQ(make_source_stamp({-2, 500000000}, 7), (SourceStamp{0xFFFFFFFFu, 7}));  // -1.5 s -> -1
  EXPECT_EQ(make_source_stamp({-1, 0}, 0), (SourceStamp{0xFFFFFFFFu, 0}));
  EXPECT_EQ(make_source_stamp({0x100000005LL, 0}, 0x100000003ULL), (SourceStamp{5, 3}));
  EXPECT_EQ(make_source_stamp({1700000000, 999999999}, 1).mtime, 1700000001u);  // the double rounds up
}

// Real files with awkward mtimes: the stamp must equal what each interpreter
// computes as int(os.stat(path).st_mtime) & 0xFFFFFFFF.
TEST(PycHeaderInterpreters, StampMatchesInterpretersOnRealFiles) {
  char dir[] = "/tmp/pycemit-stamp-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/a.py";
  const timespec cases[] = {{1700000000, 999999999},
                            {1700000000, 123456789},
                            {-2, 500000000},
                            {0, 0},
                            {4294967296LL + 12, 999999999},
                            {1, 1}};
  for (const auto& when : cases) {
    SCOPED_TRACE(std::to_string(when.tv_sec) + "." + std::to_string(when.tv_nsec));
    const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "x = 1\n", 6), 6);
    ::close(fd);
    const timespec times[2] = {when, when};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    const SourceStamp ours = make_source_stamp(st.st_mtim, static_cast<std::uint64_t>(st.st_size));
    for (const auto& python : testing::installed_cpythons()) {
      const std::string out = testing::run_and_capture(
          {python, "-S", "-c", "import os,sys; st = os.stat(sys.argv[1]); print(int(st.st_mtime) & 0xFFFFFFFF)", path});
      EXPECT_EQ(std::strtoull(out.c_str(), nullptr, 10), ours.mtime) << python;
    }
  }
  ::unlink(path.c_str());
  ::rmdir(dir);
}

}  // namespace
}  // namespace pycemit
