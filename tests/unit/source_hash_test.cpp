// The PEP 552 source hash against the reference's test vectors (checked on
// CPython 3.8-3.14) and against every installed interpreter's own
// importlib.util.source_hash.
#include "pycemit/source_hash.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "test_interpreters.h"

namespace pycemit {
namespace {

std::string hex(const SourceHash& h) {
  std::string out;
  char buf[3];
  for (auto b : h) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

std::array<std::uint8_t, 4> magic_of(int minor) {
  const std::uint16_t m = *known_magic_number(minor);
  return {static_cast<std::uint8_t>(m & 0xFF), static_cast<std::uint8_t>(m >> 8), '\r', '\n'};
}

struct Vector {
  int minor;
  const char* empty;
  const char* x_equals_1;
  const char* hello;
};

// docs/pyc-format.md, section 3.
constexpr Vector kVectors[] = {
    {8, "81e4881b3643e8e9", "1506f08f32bf3ff3", "d6381f1ffa182413"},
    {9, "ac0bb7c83e5b1c5f", "f1d665a9e50fdffa", "2316bd72f222b323"},
    {10, "8cc0cd2525e7fd27", "d94aade28c8cbebf", "2d111ea35c83dc0d"},
    {11, "738d9cd5d5e87f73", "4c0372aa93f75252", "7a52fa0413f39bdb"},
    {12, "baf18eedc9387a25", "1522561917f5df08", "27d48187817c389b"},
    {13, "27ec6d312f93b814", "e786e2893651120e", "76f9b14327678b4a"},
    {14, "61f5b7cb653a6aa4", "1db2b6325ca282a7", "79a634721ac3d864"},
};

TEST(SourceHash, MatchesReferenceVectorsFor38To314) {
  for (const auto& v : kVectors) {
    SCOPED_TRACE("3." + std::to_string(v.minor));
    const auto magic = magic_of(v.minor);
    const auto rounds = source_hash_rounds(v.minor);
    EXPECT_EQ(hex(source_hash(magic, rounds, "")), v.empty);
    EXPECT_EQ(hex(source_hash(magic, rounds, "x = 1\n")), v.x_equals_1);
    EXPECT_EQ(hex(source_hash(magic, rounds, "print(\"hello, world\")\n")), v.hello);
  }
}

TEST(SourceHash, VariantFollowsVersion) {
  EXPECT_EQ(source_hash_rounds(10), (SipHashRounds{2, 4}));
  EXPECT_EQ(source_hash_rounds(11), (SipHashRounds{1, 3}));
}

TEST(SourceHashInterpreters, MatchesEveryInstalledInterpreter) {
  // Bytes a decoder would choke on: the hash is over raw bytes.
  static const char kData[] = "# coding: latin-1\nx = '\xe9'\r\n\0tail";
  const std::string data(kData, sizeof kData - 1);
  for (const auto& python : testing::installed_cpythons()) {
    SCOPED_TRACE(python);
    const std::string out = testing::run_and_capture(
        {python, "-S", "-c",
         "import importlib.util, sys; d = b'# coding: latin-1\\nx = \\'\\xe9\\'\\r\\n\\x00tail'; "
         "print(importlib.util.MAGIC_NUMBER.hex(), sys.version_info[1], importlib.util.source_hash(d).hex())"});
    unsigned m0, m1, m2, m3;
    int minor;
    char expected[17];
    ASSERT_EQ(std::sscanf(out.c_str(), "%2x%2x%2x%2x %d %16s", &m0, &m1, &m2, &m3, &minor, expected), 6) << out;
    const std::array<std::uint8_t, 4> magic{static_cast<std::uint8_t>(m0), static_cast<std::uint8_t>(m1),
                                            static_cast<std::uint8_t>(m2), static_cast<std::uint8_t>(m3)};
    EXPECT_EQ(hex(source_hash(magic, source_hash_rounds(minor), data)), expected);
  }
}

}  // namespace
}  // namespace pycemit
