// The PEP 552 source hash against the test vectors of docs/pyc-format.md
// (checked on CPython 3.8-3.15 and PyPy 3.9 and 3.11) and against every
// installed interpreter's own importlib.util.source_hash.
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

std::array<std::uint8_t, 4> magic_bytes(std::uint16_t m) {
  return {static_cast<std::uint8_t>(m & 0xFF), static_cast<std::uint8_t>(m >> 8), '\r', '\n'};
}

struct Vector {
  const char* implementation;
  int minor;
  const char* empty;
  const char* x_equals_1;
  const char* hello;
};

// docs/pyc-format.md, section 3.
constexpr Vector kVectors[] = {
    {"cpython", 8, "81e4881b3643e8e9", "1506f08f32bf3ff3", "d6381f1ffa182413"},
    {"cpython", 9, "ac0bb7c83e5b1c5f", "f1d665a9e50fdffa", "2316bd72f222b323"},
    {"cpython", 10, "8cc0cd2525e7fd27", "d94aade28c8cbebf", "2d111ea35c83dc0d"},
    {"cpython", 11, "738d9cd5d5e87f73", "4c0372aa93f75252", "7a52fa0413f39bdb"},
    {"cpython", 12, "baf18eedc9387a25", "1522561917f5df08", "27d48187817c389b"},
    {"cpython", 13, "27ec6d312f93b814", "e786e2893651120e", "76f9b14327678b4a"},
    {"cpython", 14, "61f5b7cb653a6aa4", "1db2b6325ca282a7", "79a634721ac3d864"},
    {"cpython", 15, "4a3c34e72b7ffc07", "a8abdb6f34c441fd", "6f5c7627acfabd1e"},
    {"pypy", 9, "f3548a5dfe7fe95f", "152e8119840baf92", "a56d6ac95be9750f"},
    {"pypy", 11, "9a73c01c39470505", "d2a9e8b178f4af56", "f0e11a28dd5d4e11"},
};

TEST(SourceHash, MatchesTheDocumentedVectorsOfEveryKnownFormat) {
  ASSERT_EQ(std::size(kVectors), known_formats().size()) << "a known format without test vectors";
  for (const auto& v : kVectors) {
    SCOPED_TRACE(std::string(v.implementation) + " 3." + std::to_string(v.minor));
    const PycFormat* format = known_format(v.implementation, v.minor);
    ASSERT_NE(format, nullptr);
    const auto magic = magic_bytes(format->magic_number);
    const auto rounds = format->hash_rounds;
    EXPECT_EQ(hex(source_hash(magic, rounds, "")), v.empty);
    EXPECT_EQ(hex(source_hash(magic, rounds, "x = 1\n")), v.x_equals_1);
    EXPECT_EQ(hex(source_hash(magic, rounds, "print(\"hello, world\")\n")), v.hello);
  }
}

TEST(SourceHash, VariantFollowsImplementationAndVersion) {
  EXPECT_EQ(known_format("cpython", 10)->hash_rounds, (SipHashRounds{2, 4}));
  EXPECT_EQ(known_format("cpython", 11)->hash_rounds, (SipHashRounds{1, 3}));
  EXPECT_EQ(known_format("pypy", 11)->hash_rounds, (SipHashRounds{2, 4}));
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
         "print(importlib.util.MAGIC_NUMBER.hex(), sys.version_info[1], importlib.util.source_hash(d).hex(), "
         "sys.implementation.name)"});
    unsigned m0, m1, m2, m3;
    int minor;
    char expected[17], implementation[16];
    ASSERT_EQ(
        std::sscanf(out.c_str(), "%2x%2x%2x%2x %d %16s %15s", &m0, &m1, &m2, &m3, &minor, expected, implementation), 7)
        << out;
    const PycFormat* format = known_format(implementation, minor);
    ASSERT_NE(format, nullptr) << out;
    const std::array<std::uint8_t, 4> magic{static_cast<std::uint8_t>(m0), static_cast<std::uint8_t>(m1),
                                            static_cast<std::uint8_t>(m2), static_cast<std::uint8_t>(m3)};
    EXPECT_EQ(hex(source_hash(magic, format->hash_rounds, data)), expected);
  }
}

}  // namespace
}  // namespace pycemit
