// Every type code is read and written back in its canonical encoding.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "helpers.h"
#include "stream.h"

namespace pycemit::marshal::testing {
namespace {

TEST(MarshalTypes, SingletonsAreWrittenAsThemselvesWithoutFlag) {
  for (char c : std::string("NFTS.")) {
    EXPECT_BYTES_EQ(canon(Stream().type(c)), Stream().type(c).bytes());
    // FLAG_REF on a singleton reserves nothing in CPython (r_object) and is dropped.
    EXPECT_BYTES_EQ(canon(Stream().type(c, kRef)), Stream().type(c).bytes());
  }
}

TEST(MarshalTypes, IntsFittingInt32AreWrittenAsI) {
  for (std::int32_t v : {0, 1, -1, 255, 1 << 30, INT32_MAX, INT32_MIN}) {
    EXPECT_BYTES_EQ(canon(Stream().int32(v)), Stream().int32(v).bytes());
    EXPECT_BYTES_EQ(canon(Stream().int64(v)), Stream().int32(v).bytes());
  }
  // 'l' holding a small value: 5 = one digit; -(2**15 + 3) = digits 3, 1.
  EXPECT_BYTES_EQ(canon(Stream().long_digits(1, {5})), Stream().int32(5).bytes());
  EXPECT_BYTES_EQ(canon(Stream().long_digits(-2, {3, 1})), Stream().int32(-(32768 + 3)).bytes());
  EXPECT_BYTES_EQ(canon(Stream().long_digits(0, {})), Stream().int32(0).bytes());
}

TEST(MarshalTypes, IntsBeyondInt32AreWrittenAsLongDigits) {
  // 2**31 = 2 * 2**30: digits (least significant first) 0, 0, 2.
  EXPECT_BYTES_EQ(canon(Stream().int64(2147483648LL)), Stream().long_digits(3, {0, 0, 2}).bytes());
  EXPECT_BYTES_EQ(canon(Stream().long_digits(3, {0, 0, 2})), Stream().long_digits(3, {0, 0, 2}).bytes());
  // -2**31 - 1 = -(1 + 0*2**15 + 2*2**30).
  EXPECT_BYTES_EQ(canon(Stream().int64(-2147483649LL)), Stream().long_digits(-3, {1, 0, 2}).bytes());
  // INT64_MIN = -2**63 = -(8 * 2**60): digits 0,0,0,0,8.
  EXPECT_BYTES_EQ(canon(Stream().int64(INT64_MIN)), Stream().long_digits(-5, {0, 0, 0, 0, 8}).bytes());
  // A large one passes through unchanged.
  const std::string big = Stream().long_digits(7, {1, 2, 3, 4, 5, 6, 0x7fff});
  EXPECT_BYTES_EQ(canon(big), big);
}

TEST(MarshalTypes, FloatsAndComplexAreBinary) {
  EXPECT_BYTES_EQ(canon(Stream().binary_float(1.5)), Stream().binary_float(1.5).bytes());
  EXPECT_BYTES_EQ(canon(Stream().binary_float(-0.0)), Stream().binary_float(-0.0).bytes());
  EXPECT_BYTES_EQ(canon(Stream().binary_complex(1.0, -2.0)), Stream().binary_complex(1.0, -2.0).bytes());
  // Text forms ('f', 'x', marshal versions 0 and 1) become binary.
  EXPECT_BYTES_EQ(canon(Stream().text_float("1.5")), Stream().binary_float(1.5).bytes());
  EXPECT_BYTES_EQ(canon(Stream().text_float("-0")), Stream().binary_float(-0.0).bytes());
  EXPECT_BYTES_EQ(canon(Stream().text_float("1e400")),
                  Stream().binary_float(std::numeric_limits<double>::infinity()).bytes());
  EXPECT_BYTES_EQ(canon(Stream().text_float("-Infinity")),
                  Stream().binary_float(-std::numeric_limits<double>::infinity()).bytes());
  EXPECT_BYTES_EQ(canon(Stream().text_float("0.1")), Stream().binary_float(0.1).bytes());
  EXPECT_BYTES_EQ(canon(Stream().text_float(".5e1")), Stream().binary_float(5.0).bytes());
  EXPECT_BYTES_EQ(canon(Stream().type('x').byte(3).raw("1.0").byte(4).raw("-2.5")),
                  Stream().binary_complex(1.0, -2.5).bytes());
}

TEST(MarshalTypes, BytesObjects) {
  EXPECT_BYTES_EQ(canon(Stream().bytes_object("")), Stream().bytes_object("").bytes());
  const std::string binary("\x00\xff\x80 abc", 7);
  EXPECT_BYTES_EQ(canon(Stream().bytes_object(binary)), Stream().bytes_object(binary).bytes());
}

TEST(MarshalTypes, AsciiStrsUseTheShortestAsciiForm) {
  const std::string s300(300, 'q');
  // Non-interned.
  EXPECT_BYTES_EQ(canon(Stream().short_ascii("a bc")), Stream().short_ascii("a bc").bytes());
  EXPECT_BYTES_EQ(canon(Stream().ascii("a bc")), Stream().short_ascii("a bc").bytes());
  EXPECT_BYTES_EQ(canon(Stream().unicode("a bc")), Stream().short_ascii("a bc").bytes());
  // Interned (identifier characters only), whatever the input said.
  EXPECT_BYTES_EQ(canon(Stream().short_ascii("abc")), Stream().short_ascii("abc", true).bytes());
  EXPECT_BYTES_EQ(canon(Stream().ascii("abc", true)), Stream().short_ascii("abc", true).bytes());
  EXPECT_BYTES_EQ(canon(Stream().unicode("abc", true)), Stream().short_ascii("abc", true).bytes());
  EXPECT_BYTES_EQ(canon(Stream().unicode(s300, true)), Stream().ascii(s300, true).bytes());
  EXPECT_BYTES_EQ(canon(Stream().ascii(s300)), Stream().ascii(s300, true).bytes());
  // 255 bytes still fit the short form, 256 do not.
  const std::string s255(255, ' ');
  const std::string s256(256, ' ');
  EXPECT_BYTES_EQ(canon(Stream().ascii(s255)), Stream().short_ascii(s255).bytes());
  EXPECT_BYTES_EQ(canon(Stream().ascii(s256)), Stream().ascii(s256).bytes());
}

TEST(MarshalTypes, NonAsciiStrsAreUtf8) {
  const std::string text = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80";  // héllo € 😀
  EXPECT_BYTES_EQ(canon(Stream().unicode(text)), Stream().unicode(text).bytes());
  EXPECT_BYTES_EQ(canon(Stream().unicode(text, true)), Stream().unicode(text).bytes());
  // Lone surrogates are allowed, as "surrogatepass" (U+DCFF, U+D800).
  const std::string surrogates = "a\xed\xb3\xbf\xed\xa0\x80";
  EXPECT_BYTES_EQ(canon(Stream().unicode(surrogates)), Stream().unicode(surrogates).bytes());
}

TEST(MarshalTypes, OneByteKindPayloadsAreLatin1) {
  // CPython decodes 'z'/'a' payloads as Latin-1: 0xe9 is 'é', written back as UTF-8.
  EXPECT_BYTES_EQ(canon(Stream().short_ascii("caf\xe9")), Stream().unicode("caf\xc3\xa9").bytes());
  EXPECT_BYTES_EQ(canon(Stream().ascii("caf\xe9", true)), Stream().unicode("caf\xc3\xa9").bytes());
  // Equal to the same text read from 'u': merged.
  const std::string both = Stream().small_tuple(2).short_ascii("caf\xe9").unicode("caf\xc3\xa9");
  EXPECT_BYTES_EQ(canon(both), Stream().small_tuple(2).unicode("caf\xc3\xa9", false, kRef).ref(0).bytes());
}

TEST(MarshalTypes, OnlyIdentifierLikeStrsOfTwoOrMoreCharactersAreInterned) {
  EXPECT_BYTES_EQ(canon(Stream().short_ascii("a", true)), Stream().short_ascii("a").bytes());
  EXPECT_BYTES_EQ(canon(Stream().short_ascii("", true)), Stream().short_ascii("").bytes());
  EXPECT_BYTES_EQ(canon(Stream().unicode("\xe2\x82\xac", true)), Stream().unicode("\xe2\x82\xac").bytes());
  EXPECT_BYTES_EQ(canon(Stream().unicode("", true)), Stream().short_ascii("").bytes());
  EXPECT_BYTES_EQ(canon(Stream().unicode("\xe2\x82\xac\xe2\x82\xac", true)),
                  Stream().unicode("\xe2\x82\xac\xe2\x82\xac").bytes());
  EXPECT_BYTES_EQ(canon(Stream().short_ascii("__init__")), Stream().short_ascii("__init__", true).bytes());
  EXPECT_BYTES_EQ(canon(Stream().short_ascii("x1")), Stream().short_ascii("x1", true).bytes());
  EXPECT_BYTES_EQ(canon(Stream().short_ascii("pkg/m.py", true)), Stream().short_ascii("pkg/m.py").bytes());
}

TEST(MarshalTypes, TuplesUseTheSmallFormBelow256Items) {
  EXPECT_BYTES_EQ(canon(Stream().small_tuple(0)), Stream().small_tuple(0).bytes());
  EXPECT_BYTES_EQ(canon(Stream().tuple(0)), Stream().small_tuple(0).bytes());
  EXPECT_BYTES_EQ(canon(Stream().tuple(2).none().int32(7)), Stream().small_tuple(2).none().int32(7).bytes());
  Stream big_in, big_out;
  big_in.tuple(256);
  big_out.tuple(256);
  Stream small_in, small_out;
  small_in.tuple(255);
  small_out.small_tuple(255);
  for (int i = 0; i < 256; ++i) {
    big_in.none();
    big_out.none();
    if (i < 255) {
      small_in.none();
      small_out.none();
    }
  }
  EXPECT_BYTES_EQ(canon(big_in), big_out.bytes());
  EXPECT_BYTES_EQ(canon(small_in), small_out.bytes());
}

TEST(MarshalTypes, ListsDictsAndSets) {
  const std::string list = Stream().list(2).int32(1).none();
  EXPECT_BYTES_EQ(canon(list), list);
  const std::string dict = Stream().dict().short_ascii("k").int32(1).short_ascii("j").none().null();
  EXPECT_BYTES_EQ(canon(dict), dict);
  const std::string empty_dict = Stream().dict().null();
  EXPECT_BYTES_EQ(canon(empty_dict), empty_dict);
  // A NULL with FLAG_REF ends a dict too (r_object masks the flag).
  EXPECT_BYTES_EQ(canon(Stream().dict().type('0', kRef)), empty_dict);
  const std::string set = Stream().set(1).int32(1);
  EXPECT_BYTES_EQ(canon(set), set);
  const std::string frozen = Stream().frozenset(1).int32(1);
  EXPECT_BYTES_EQ(canon(frozen), frozen);
  EXPECT_BYTES_EQ(canon(Stream().frozenset(0)), Stream().frozenset(0).bytes());
}

TEST(MarshalTypes, DictWithNullValueDropsTheKeyAsCPythonDoes) {
  // r_object stops a dict at a NULL value and drops its key.
  EXPECT_BYTES_EQ(canon(Stream().dict().short_ascii("k k").int32(1).short_ascii("d ropped").null()),
                  Stream().dict().short_ascii("k k").int32(1).null().bytes());
}

TEST(MarshalTypes, DictEntriesKeepTheirOrder) {
  const std::string dict = Stream().dict().short_ascii("z z").int32(1).short_ascii("a a").int32(2).null();
  EXPECT_BYTES_EQ(canon(dict), dict);
}

TEST(MarshalTypes, CodeObjectsInEveryLayout) {
  for (CodeLayout layout : {CodeLayout::Py38, CodeLayout::Py311, CodeLayout::PyPy311}) {
    const std::string code = code_object(layout, 42, [](Stream& s, int field) {
      switch (field) {
        case 0: s.bytes_object(std::string("\x64\x00\x53\x00", 4)); break;
        case 1: s.small_tuple(1).none(); break;
        case 6: s.short_ascii("name", true); break;
        case 7: s.short_ascii("q ualname_or_lnotab"); break;
        default: s.small_tuple(1).int32(field); break;
      }
    });
    EXPECT_BYTES_EQ(canonicalize(code, layout), code);
    // The other layouts do not read it: the fields do not line up.
    for (CodeLayout other : {CodeLayout::Py38, CodeLayout::Py311, CodeLayout::PyPy311}) {
      if (other != layout) {
        EXPECT_THROW(canonicalize(code, other), MarshalError);
      }
    }
  }
}

TEST(MarshalTypes, SlicesOfMarshalVersion5) {
  const std::string slice = Stream().slice().int32(1).none().int32(-1);
  EXPECT_BYTES_EQ(canon(slice), slice);
  // A referenced slice: reference slot reserved before its children, as r_ref_reserve.
  const std::string in =
      Stream().small_tuple(3).slice(kRef).short_ascii("a b", false, kRef).none().none().ref(0).ref(1);
  EXPECT_BYTES_EQ(canon(in), in);
  // Two equal slices written in full are merged.
  const std::string twice = Stream().small_tuple(2).slice().int32(1).int32(2).none().slice().int32(1).int32(2).none();
  EXPECT_BYTES_EQ(canon(twice), Stream().small_tuple(2).slice(kRef).int32(1).int32(2).none().ref(0).bytes());
  EXPECT_EQ(canon(canon(in)), canon(in));
}

}  // namespace
}  // namespace pycemit::marshal::testing
