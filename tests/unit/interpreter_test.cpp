#include "pycemit/interpreter.h"

#include <gtest/gtest.h>

namespace pycemit {
namespace {

InterpreterInfo cpython(int minor, std::uint16_t magic) {
  InterpreterInfo info;
  info.executable = "/usr/bin/python3." + std::to_string(minor);
  info.implementation = "cpython";
  info.major = 3;
  info.minor = minor;
  info.micro = 1;
  info.cache_tag = "cpython-3" + std::to_string(minor);
  info.magic = {static_cast<std::uint8_t>(magic & 0xFF), static_cast<std::uint8_t>(magic >> 8), '\r', '\n'};
  info.marshal_version = minor >= 14 ? 5 : 4;
  return info;
}

TEST(Interpreter, MagicNumberTable) {
  EXPECT_EQ(known_magic_number(8), 3413);
  EXPECT_EQ(known_magic_number(13), 3571);
  EXPECT_EQ(known_magic_number(14), 3627);
  EXPECT_EQ(known_magic_number(7), std::nullopt);
  EXPECT_EQ(minor_for_magic_number(3531), 12);
  EXPECT_EQ(minor_for_magic_number(3530), std::nullopt);
}

TEST(Interpreter, AcceptsReleasedCPython38To314) {
  for (int minor = 8; minor <= 14; ++minor) {
    EXPECT_NO_THROW(validate_interpreter(cpython(minor, *known_magic_number(minor)))) << minor;
  }
  EXPECT_EQ(cpython(12, 3531).version_string(), "3.12.1");
  EXPECT_EQ(cpython(12, 3531).magic_number(), 3531);
}

TEST(Interpreter, RefusesWithAMessageNamingTheProblem) {
  auto expect_refused = [](const InterpreterInfo& info, const std::string& fragment) {
    try {
      validate_interpreter(info);
      ADD_FAILURE() << "accepted";
    } catch (const InterpreterError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  auto pypy = cpython(9, 3425);
  pypy.implementation = "pypy";
  expect_refused(pypy, "is pypy 3.9.1, not CPython");
  auto old = cpython(7, 3394);
  expect_refused(old, "is cpython 3.7.1: pycemit writes pycs for CPython 3.8 or later");
  expect_refused(cpython(15, 3700), "knows CPython 3.8 to 3.14 only");
  expect_refused(cpython(12, 3530), "magic number 3530, not the released 3531");
  auto marshal = cpython(12, 3531);
  marshal.marshal_version = 5;
  expect_refused(marshal, "marshal version 5, expected 4");
}

}  // namespace
}  // namespace pycemit
