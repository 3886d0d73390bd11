// Deciding an interpreter's pyc format from its handshake facts (interpreter.h):
// known releases, pre-releases, newer versions, PyPy, and refusals. Hermetic:
// the facts are written here as each interpreter reports them.
#include "pycemit/interpreter.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "pycemit/source_hash.h"

namespace pycemit {
namespace {

std::string as_string(const SourceHash& h) { return std::string(reinterpret_cast<const char*>(h.data()), h.size()); }

// The facts `implementation` 3.<minor> reports with magic number `magic`, its
// source hashes computed with `rounds` (as the real interpreter would).
InterpreterInfo facts(const std::string& implementation, int minor, std::uint16_t magic, int marshal_version,
                      SipHashRounds rounds) {
  InterpreterInfo info;
  info.executable = "/usr/bin/python3." + std::to_string(minor);
  info.implementation = implementation;
  info.major = 3;
  info.minor = minor;
  info.micro = 1;
  info.implementation_version = implementation == "pypy" ? "7.3.11" : "3." + std::to_string(minor) + ".1";
  info.cache_tag = implementation == "pypy" ? "pypy3" + std::to_string(minor) : "cpython-3" + std::to_string(minor);
  info.magic = {static_cast<std::uint8_t>(magic & 0xFF), static_cast<std::uint8_t>(magic >> 8), '\r', '\n'};
  info.marshal_version = marshal_version;
  for (const std::string data : {"", "x = 1\n"}) {
    info.source_hashes.emplace_back(data, as_string(source_hash(info.magic, rounds, data)));
  }
  return info;
}

InterpreterInfo release(const PycFormat& f) {
  return facts(std::string(f.implementation), f.minor, f.magic_number, f.marshal_version, f.hash_rounds);
}

std::string refusal(InterpreterInfo info) {
  try {
    decide_format(info);
  } catch (const InterpreterError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(Interpreter, EveryKnownReleaseIsKnownWithItsLayoutAndHash) {
  ASSERT_GE(known_formats().size(), 10u);
  for (const PycFormat& f : known_formats()) {
    SCOPED_TRACE(std::string(f.implementation) + " 3." + std::to_string(f.minor));
    InterpreterInfo info = release(f);
    decide_format(info);
    EXPECT_TRUE(info.known_format) << info.format_note;
    EXPECT_EQ(info.code_layout, f.code_layout);
    EXPECT_EQ(info.hash_rounds, f.hash_rounds);
  }
}

TEST(Interpreter, TheTableHoldsTheReleasedFacts) {
  EXPECT_EQ(known_format("cpython", 8)->magic_number, 3413);
  EXPECT_EQ(known_format("cpython", 14)->marshal_version, 5);
  EXPECT_EQ(known_format("cpython", 15)->magic_number, 3666);
  EXPECT_EQ(known_format("cpython", 15)->marshal_version, 6);
  EXPECT_EQ(known_format("cpython", 15)->code_layout, marshal::CodeLayout::Py311);
  EXPECT_EQ(known_format("pypy", 9)->magic_number, 336);
  EXPECT_EQ(known_format("pypy", 9)->code_layout, marshal::CodeLayout::Py38);
  EXPECT_EQ(known_format("pypy", 11)->magic_number, 432);
  EXPECT_EQ(known_format("pypy", 11)->code_layout, marshal::CodeLayout::PyPy311);
  EXPECT_EQ(known_format("cpython", 7), nullptr);
  EXPECT_EQ(known_format("cpython", 16), nullptr);
}

TEST(Interpreter, DecidesWithTheDocumentedSourceHashVectors) {
  // CPython 3.15.2's own answers (docs/pyc-format.md, section 3).
  InterpreterInfo info = facts("cpython", 15, 3666, 6, {1, 3});
  info.source_hashes = {{"", std::string("\x4a\x3c\x34\xe7\x2b\x7f\xfc\x07", 8)},
                        {"x = 1\n", std::string("\xa8\xab\xdb\x6f\x34\xc4\x41\xfd", 8)}};
  decide_format(info);
  EXPECT_TRUE(info.known_format) << info.format_note;
  EXPECT_EQ(info.hash_rounds, (SipHashRounds{1, 3}));
}

TEST(Interpreter, APreReleaseMagicNumberIsProbedWithItsVersionsFormat) {
  InterpreterInfo info = facts("cpython", 15, 3655, 6, {1, 3});
  info.release_level = "beta";
  info.serial = 2;
  decide_format(info);
  EXPECT_FALSE(info.known_format);
  EXPECT_EQ(info.format_note, "magic number 3655, not CPython 3.15's released 3666 (a pre-release?)");
  EXPECT_EQ(info.code_layout, marshal::CodeLayout::Py311);
  EXPECT_EQ(info.version_string(), "3.15.1b2");
  EXPECT_NE(unknown_format_warning(info).find("CPython 3.15.1b2 (magic number 3655, marshal version 6)"),
            std::string::npos)
      << unknown_format_warning(info);
}

TEST(Interpreter, ANewerVersionUsesTheNearestKnownFormat) {
  InterpreterInfo info = facts("cpython", 16, 3700, 6, {1, 3});
  info.release_level = "alpha";
  info.serial = 1;
  info.micro = 0;
  decide_format(info);
  EXPECT_FALSE(info.known_format);
  EXPECT_EQ(info.code_layout, marshal::CodeLayout::Py311);
  EXPECT_EQ(info.hash_rounds, (SipHashRounds{1, 3}));
  EXPECT_NE(info.format_note.find("does not know"), std::string::npos) << info.format_note;
  EXPECT_EQ(info.display_name(), "CPython 3.16.0a1");

  InterpreterInfo pypy = facts("pypy", 10, 384, 4, {2, 4});
  decide_format(pypy);
  EXPECT_FALSE(pypy.known_format);
  EXPECT_EQ(pypy.code_layout, marshal::CodeLayout::Py38);  // the nearest below: PyPy 3.9
}

TEST(Interpreter, TheHashVariantIsTheOneThatReproducesTheInterpreter) {
  InterpreterInfo info = facts("cpython", 12, 3531, 4, {2, 4});  // a patched 3.12
  decide_format(info);
  EXPECT_EQ(info.hash_rounds, (SipHashRounds{2, 4}));
  EXPECT_FALSE(info.known_format);
  EXPECT_EQ(info.format_note, "its source hash is SipHash-2-4, not CPython 3.12's SipHash-1-3");
}

TEST(Interpreter, RefusesWithAMessageNamingTheProblem) {
  auto graal = facts("graalpy", 11, 3495, 4, {1, 3});
  EXPECT_NE(refusal(graal).find("is graalpy 3.11.1"), std::string::npos) << refusal(graal);
  EXPECT_NE(refusal(graal).find("pycemit writes pycs for CPython and PyPy"), std::string::npos);
  EXPECT_NE(refusal(facts("cpython", 7, 3394, 4, {2, 4})).find("is CPython 3.7.1: pycemit writes pycs for Python 3.8"),
            std::string::npos);
  EXPECT_NE(refusal(facts("pypy", 7, 320, 4, {2, 4})).find("Python 3.8 or later"), std::string::npos);
  auto bad_magic = facts("cpython", 12, 3531, 4, {1, 3});
  bad_magic.magic[3] = 'x';
  EXPECT_NE(refusal(bad_magic).find("does not end in \\r\\n"), std::string::npos) << refusal(bad_magic);
  EXPECT_NE(refusal(facts("cpython", 13, 3000, 4, {1, 3}))
                .find("reports magic number 3000, outside the range of CPython 3.13's magic numbers"),
            std::string::npos);
  auto bad_hash = facts("cpython", 12, 3531, 4, {1, 3});
  bad_hash.source_hashes[1].second = std::string(8, '\0');
  EXPECT_NE(refusal(bad_hash).find("agrees with neither SipHash-1-3 nor SipHash-2-4"), std::string::npos);
}

TEST(Interpreter, TheTreatAsUnknownSeamMakesAKnownReleaseProbed) {
  ::setenv("PYCEMIT_TREAT_AS_UNKNOWN", "pypy-3.9,cpython-3.15", 1);
  InterpreterInfo info = release(*known_format("cpython", 15));
  decide_format(info);
  InterpreterInfo other = release(*known_format("cpython", 14));
  decide_format(other);
  ::unsetenv("PYCEMIT_TREAT_AS_UNKNOWN");
  EXPECT_FALSE(info.known_format);
  EXPECT_EQ(info.format_note, "treated as unknown ($PYCEMIT_TREAT_AS_UNKNOWN)");
  EXPECT_EQ(info.code_layout, marshal::CodeLayout::Py311);
  EXPECT_TRUE(other.known_format);
}

TEST(Interpreter, MagicNumbersOfPycsNameAFormat) {
  EXPECT_EQ(format_for_magic_number(3531)->format, known_format("cpython", 12));
  EXPECT_TRUE(format_for_magic_number(3531)->exact);
  EXPECT_EQ(format_for_magic_number(3655)->format, known_format("cpython", 15));  // a 3.15 pre-release
  EXPECT_FALSE(format_for_magic_number(3655)->exact);
  EXPECT_EQ(format_for_magic_number(3430)->format, known_format("cpython", 10));
  EXPECT_EQ(format_for_magic_number(3700)->format, known_format("cpython", 15));  // 3.16: the newest known
  EXPECT_EQ(format_for_magic_number(336)->format, known_format("pypy", 9));
  EXPECT_EQ(format_for_magic_number(432)->format, known_format("pypy", 11));
  EXPECT_FALSE(format_for_magic_number(384));   // PyPy 3.10: not known
  EXPECT_FALSE(format_for_magic_number(3379));  // CPython 3.7
}

TEST(Interpreter, NamesAndTheMissingCacheTag) {
  InterpreterInfo pypy = release(*known_format("pypy", 9));
  pypy.micro = 16;
  EXPECT_EQ(pypy.display_name(), "PyPy 7.3.11 (Python 3.9.16)");
  InterpreterInfo ft = release(*known_format("cpython", 14));
  ft.free_threaded = true;
  EXPECT_EQ(ft.display_name(), "CPython 3.14.1 (free-threaded)");
  EXPECT_EQ(ft.require_cache_tag(), "cpython-314");
  ft.cache_tag.reset();
  try {
    ft.require_cache_tag();
    ADD_FAILURE() << "no cache tag accepted";
  } catch (const InterpreterError& e) {
    EXPECT_NE(std::string(e.what()).find("use --layout sourceless"), std::string::npos) << e.what();
  }
  EXPECT_EQ(to_string(SipHashRounds{1, 3}), "SipHash-1-3");
  EXPECT_EQ(to_string(marshal::CodeLayout::PyPy311), "pypy-3.11");
}

}  // namespace
}  // namespace pycemit
