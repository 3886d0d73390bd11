// Streams that cannot be read are rejected with a message naming what was found
// and its offset.
#include <gtest/gtest.h>

#include <string>

#include "helpers.h"
#include "stream.h"

namespace pycemit::marshal::testing {
namespace {

TEST(MarshalRejections, UnknownTypeCodes) {
  expect_rejected(Stream().type('?'), "unknown type code 0x3f ('?'", 0);
  expect_rejected(Stream().small_tuple(1).type('?'), "unmarshallable object)", 2);
  expect_rejected(Stream().type('Q'), "unknown type code 0x51 ('Q')", 0);
  expect_rejected(Stream().small_tuple(2).none().type('?', kRef), "unknown type code 0xbf", 3);
  expect_rejected(Stream().byte(0x01), "unknown type code 0x01", 0);
}

TEST(MarshalRejections, TruncatedData) {
  expect_rejected("", "truncated data: an object was expected, no bytes remain", 0);
  expect_rejected(Stream().type('i').raw("\x01\x02"), "truncated data: an int needs 4 bytes, 2 remain", 1);
  expect_rejected(Stream().small_tuple(2).small_tuple(0), "an object was expected, no bytes remain", 4);
  expect_rejected(Stream().type('g').raw("abc"), "truncated data: a float needs 8 bytes", 1);
  expect_rejected(Stream().type('z'), "truncated data: the length of a short str", 1);
  expect_rejected(Stream().type('z').byte(5).raw("ab"), "truncated data: a str needs 5 bytes, 2 remain", 2);
  expect_rejected(Stream().type('c').i32(0).i32(0), "truncated data: an int32 field of a code object", 9);
  expect_rejected(Stream().dict().short_ascii("k").none(), "an object was expected", 5);
  // Code object cut before co_firstlineno.
  std::string code = code_object(true, 1, [](Stream& s, int) { s.none(); });
  code.resize(1 + 5 * 4 + 8);
  expect_rejected(code, "truncated data: co_firstlineno of a code object needs 4 bytes, 0 remain", 29);
}

TEST(MarshalRejections, BadReferenceIndex) {
  expect_rejected(Stream().small_tuple(1).ref(5), "invalid reference index 5 (0 objects registered so far)", 2);
  expect_rejected(Stream().small_tuple(2).int32(1, kRef).ref(1), "invalid reference index 1 (1 objects", 7);
  expect_rejected(Stream().small_tuple(1).ref(-1), "invalid reference index -1", 2);
  expect_rejected(Stream().type('r').raw("\x00"), "truncated data: a reference index", 1);
}

TEST(MarshalRejections, ReferenceToAnIncompleteObject) {
  expect_rejected(Stream().small_tuple(1, kRef).ref(0), "reference 0 to an object that is not complete yet (a cycle)",
                  2);
  // A list that contains itself: CPython could build it, the canonical form refuses.
  expect_rejected(Stream().list(1, kRef).ref(0), "not complete yet (a cycle)", 5);
  expect_rejected(Stream().dict(kRef).short_ascii("k").ref(0).null(), "not complete yet", 4);
  expect_rejected(Stream().frozenset(1, kRef).ref(0), "not complete yet", 5);
  expect_rejected(Stream().slice(kRef).ref(0).none().none(), "not complete yet", 1);
}

TEST(MarshalRejections, NegativeLengths) {
  expect_rejected(Stream().type('s').i32(-1), "negative length -1 of a bytes object", 1);
  expect_rejected(Stream().type('u').i32(-5), "negative length -5 of a str", 1);
  expect_rejected(Stream().type('a').i32(-1), "negative length -1 of a str", 1);
  expect_rejected(Stream().tuple(-1), "negative size -1 of a tuple", 1);
  expect_rejected(Stream().list(-2), "negative size -2 of a list", 1);
  expect_rejected(Stream().set(-3), "negative size -3 of a set", 1);
  expect_rejected(Stream().frozenset(INT32_MIN), "negative size -2147483648 of a frozenset", 1);
}

TEST(MarshalRejections, OversizedLengthsAreRejectedBeforeAllocating) {
  expect_rejected(Stream().type('s').i32(1000).raw("ab"), "length 1000 of a bytes object exceeds the 2 remaining bytes",
                  1);
  expect_rejected(Stream().type('t').i32(INT32_MAX), "length 2147483647 of a str exceeds the 0 remaining bytes", 1);
  expect_rejected(Stream().tuple(INT32_MAX), "a tuple of 2147483647 items cannot fit in the 0 remaining bytes", 1);
  expect_rejected(Stream().list(3).none().none(), "a list of 3 items cannot fit in the 2 remaining bytes", 1);
  expect_rejected(Stream().frozenset(1000).none(), "a frozenset of 1000 items cannot fit", 1);
  expect_rejected(Stream().small_tuple(2).type('l').i32(INT32_MAX),
                  "int of 2147483647 digits exceeds the 0 remaining bytes", 3);
  expect_rejected(Stream().type('l').i32(INT32_MIN), "int of 2147483648 digits exceeds", 1);
  expect_rejected(Stream().type('l').i32(3).u16(1).u16(1), "int of 3 digits exceeds the 4 remaining bytes", 1);
}

TEST(MarshalRejections, InvalidUtf8) {
  expect_rejected(Stream().unicode("a\xff"), "invalid UTF-8 in a str: byte 0xff", 6);
  expect_rejected(Stream().unicode("\xc0\x80"), "invalid UTF-8 in a str: byte 0xc0", 5);  // overlong
  expect_rejected(Stream().unicode("ab\xe2\x82"), "byte 0xe2", 7);                        // cut sequence
  expect_rejected(Stream().unicode("\xf4\x90\x80\x80", true), "byte 0xf4", 5);            // above U+10FFFF
  expect_rejected(Stream().unicode("\x80"), "byte 0x80", 5);                              // lone continuation
  expect_rejected(Stream().unicode("\xe0\x80\x80"), "byte 0xe0", 5);                      // overlong 3-byte
}

TEST(MarshalRejections, BadIntDigits) {
  expect_rejected(Stream().long_digits(1, {0x8000}), "int digit 0x8000 out of range", 5);
  expect_rejected(Stream().long_digits(-2, {1, 0xffff}), "int digit 0xffff out of range", 7);
  expect_rejected(Stream().long_digits(2, {1, 0}), "unnormalized int: top digit is zero", 7);
  expect_rejected(Stream().small_tuple(1).long_digits(-1, {0}), "unnormalized int", 7);
}

TEST(MarshalRejections, InvalidFloatText) {
  expect_rejected(Stream().text_float("1.x"), "invalid float text '1.x'", 1);
  expect_rejected(Stream().text_float(""), "invalid float text ''", 1);
  expect_rejected(Stream().text_float(" 1"), "invalid float text ' 1'", 1);
  expect_rejected(Stream().text_float("0x1p3"), "invalid float text", 1);
  expect_rejected(Stream().text_float("1e"), "invalid float text", 1);
  expect_rejected(Stream().text_float("nan(1)"), "invalid float text", 1);
  expect_rejected(Stream().type('x').byte(1).raw("1").byte(1).raw("j"), "invalid float text 'j'", 3);
}

TEST(MarshalRejections, NullOutsideADict) {
  expect_rejected(Stream().null(), "NULL object ('0') at the top level", 0);
  expect_rejected(Stream().small_tuple(1).null(), "NULL object ('0') inside a tuple", 2);
  expect_rejected(Stream().list(2).none().null(), "NULL object ('0') inside a list", 6);
  expect_rejected(Stream().frozenset(1).null(), "NULL object ('0') inside a frozenset", 5);
  expect_rejected(Stream().slice().null(), "NULL object ('0') inside a slice", 1);
  expect_rejected(code_object(false, 1, [](Stream& s, int i) { i == 3 ? s.null() : s.none(); }),
                  "NULL object ('0') inside a code object", 1 + 6 * 4 + 3, CodeLayout::Py38);
}

std::string nested_tuples(int depth, const std::string& innermost) {
  Stream s;
  for (int i = 0; i < depth; ++i) s.small_tuple(1);
  return s.bytes() + innermost;
}

TEST(MarshalRejections, NestingDeeperThanCPythonsLimit) {
  // The top-level object is at depth 1; CPython reads depth 2000, not 2001.
  const std::string ok = nested_tuples(1999, "N");
  EXPECT_EQ(canon(ok), ok);
  expect_rejected(nested_tuples(2000, "N"), "objects nested deeper than 2000", 4000);
  // A dict's terminating NULL is read one level down.
  expect_rejected(nested_tuples(1999, "{0"), "nested deeper than 2000", 3999);
  // Far deeper input fails at the limit, without exhausting the stack.
  std::string deep;
  for (int i = 0; i < 1000000; ++i) deep += Stream().list(1).bytes();
  expect_rejected(deep, "nested deeper than 2000", 2000 * 5);
}

TEST(MarshalRejections, TrailingBytes) {
  expect_rejected(Stream().none().none(), "1 trailing bytes after the object", 1);
  expect_rejected(Stream().small_tuple(0).raw("abc"), "3 trailing bytes", 2);
}

TEST(MarshalRejections, WrongCodeLayoutIsRejected) {
  // A 3.8-layout code object read as 3.11: the fields do not line up.
  const std::string code38 = code_object(false, 1, [](Stream& s, int) { s.small_tuple(0); });
  try {
    canonicalize(code38, CodeLayout::Py311);
    ADD_FAILURE() << "accepted";
  } catch (const MarshalError&) {
  }
}

}  // namespace
}  // namespace pycemit::marshal::testing
