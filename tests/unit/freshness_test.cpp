#include "pycemit/freshness.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include "canned_code.h"
#include "test_interpreters.h"
#include "test_tree.h"

namespace pycemit {
namespace {

// Python's os.fsdecode (surrogateescape), then marshal's UTF-8 with
// surrogatepass: checked against every interpreter on awkward byte strings.
TEST(FreshnessInterpreters, FsdecodedUtf8MatchesPython) {
  const std::vector<std::string> paths = {"plain/a.py",           "caf\xc3\xa9.py",        "bad\xff\xfe.py",
                                          "trunc\xe2\x82",        "surrogate\xed\xa0\x80", "overlong\xc0\xaf",
                                          "emoji\xf0\x9f\x98\x80"};
  for (const auto& python : testing::installed_cpythons()) {
    for (const auto& p : paths) {
      std::string hex;
      for (unsigned char c : p) {
        char b[3];
        std::snprintf(b, sizeof b, "%02x", c);
        hex += b;
      }
      const std::string out =
          testing::run_and_capture({python, "-S", "-c",
                                    "import sys; p = bytes.fromhex(sys.argv[1]).decode('utf-8', 'surrogateescape');"
                                    "print(p.encode('utf-8', 'surrogatepass').hex())",
                                    hex});
      std::string ours;
      for (unsigned char c : fsdecoded_utf8(p)) {
        char b[3];
        std::snprintf(b, sizeof b, "%02x", c);
        ours += b;
      }
      EXPECT_EQ(ours + "\n", out) << python << " " << hex;
    }
  }
}

// Each state an existing output can be in, and the cause `check` prints for it.
TEST(Freshness, EveryOutputStateNamesItsCause) {
  testing::TempTree t;
  const InterpreterInfo info = testing::cpython312();
  const auto layout = marshal::CodeLayout::Py311;
  struct stat st {};
  const PycHeaderBytes header = expected_header(info, InvalidationMode::CheckedHash, "x = 1\n", st);
  const std::string canonical = marshal::canonicalize(testing::code_for("pkg/mod.py"), layout);
  const auto inspect = [&](const std::string& name, const std::string& bytes) {
    return inspect_output(t.write(name, bytes), header, "pkg/mod.py", layout);
  };
  const auto expect = [](const OutputInspection& got, OutputState state, const std::string& cause) {
    EXPECT_EQ(got.state, state) << got.cause;
    EXPECT_EQ(got.cause, cause);
  };

  expect(inspect("current.pyc", std::string(as_chars(header)) + canonical), OutputState::Current, "");
  expect(inspect_output(t / "absent.pyc", header, "pkg/mod.py", layout), OutputState::Missing, "no file");
  ASSERT_EQ(::symlink((t / "current.pyc").c_str(), (t / "link.pyc").c_str()), 0);
  expect(inspect_output(t / "link.pyc", header, "pkg/mod.py", layout), OutputState::Missing,
         "a symlink (pycemit never writes through one)");
  expect(inspect("short.pyc", "abc"), OutputState::Stale, "not a pyc: 3 bytes, shorter than the 16-byte header");

  std::string other = std::string(as_chars(header)) + canonical;
  other[0] = '\xa7';  // 3495: CPython 3.11
  expect(inspect("magic.pyc", other), OutputState::Stale,
         "magic number 3495 (CPython 3.11), expected 3531 (CPython 3.12)");
  other = std::string(as_chars(header)) + canonical;
  other[4] = '\x01';
  expect(inspect("mode.pyc", other), OutputState::Stale, "invalidation mode unchecked-hash, expected checked-hash");
  other = std::string(as_chars(header)) + canonical;
  other[8] ^= 1;
  expect(inspect("hash.pyc", other), OutputState::Stale,
         "source hash differs (the source changed since it was compiled)");
  expect(
      inspect("path.pyc", std::string(as_chars(header)) + marshal::canonicalize(testing::code_for("mod.py"), layout)),
      OutputState::Stale, "embedded path differs: has 'mod.py', expected 'pkg/mod.py'");
  expect(inspect("raw.pyc", std::string(as_chars(header)) + testing::code_for("pkg/mod.py")), OutputState::NotCanonical,
         "not in canonical form (FLAG_REF bits, set order or interning as CPython's marshal left them)");
  const auto junk = inspect("junk.pyc", std::string(as_chars(header)) + "\x3f");
  EXPECT_EQ(junk.state, OutputState::Stale);
  EXPECT_EQ(junk.cause.rfind("not readable as a pyc body: ", 0), 0u) << junk.cause;
}

}  // namespace
}  // namespace pycemit
