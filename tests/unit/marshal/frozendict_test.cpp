// Frozendicts ('}', marshal version 6, CPython 3.15, PEP 814) in hand-built
// streams: reading, reference numbering, merging, order, limits, rejections and
// the inspection walk. frozendict_interpreter_test.cpp checks the same against
// the real CPython 3.15.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "helpers.h"
#include "stream.h"

namespace pycemit::marshal::testing {
namespace {

TEST(MarshalFrozenDict, WrittenBackAsAFrozenDict) {
  const std::string one = Stream().frozendict().short_ascii("a").int32(1).null();
  EXPECT_BYTES_EQ(canon(one), one);
  const std::string empty = Stream().frozendict().null();
  EXPECT_BYTES_EQ(canon(empty), empty);
  // CPython 3.15.2's marshal.dumps(frozendict({"a": 1})): everything flagged by
  // refcount, nothing referenced.
  const std::string from_cpython = Stream().frozendict(kRef).short_ascii("a", true, kRef).int32(1, kRef).null();
  EXPECT_BYTES_EQ(from_cpython, std::string("\xfd\xda\x01\x61\xe9\x01\x00\x00\x00\x30", 10));
  EXPECT_BYTES_EQ(canon(from_cpython), one);
}

TEST(MarshalFrozenDict, ItemsKeepTheirOrder) {
  // The iteration order is part of the value: never sorted.
  const std::string items =
      Stream().frozendict().short_ascii("z z").int32(1).short_ascii("a a").int32(2).int32(0).none().null();
  EXPECT_BYTES_EQ(canon(items), items);
}

TEST(MarshalFrozenDict, ANullValueDropsItsKeyAsCPythonDoes) {
  EXPECT_BYTES_EQ(canon(Stream().frozendict().short_ascii("k k").int32(1).short_ascii("d ropped").null()),
                  Stream().frozendict().short_ascii("k k").int32(1).null().bytes());
  // A NULL with FLAG_REF ends it too (r_object masks the flag).
  EXPECT_BYTES_EQ(canon(Stream().frozendict().type('0', kRef)), Stream().frozendict().null().bytes());
}

TEST(MarshalFrozenDict, ItsReferenceSlotIsReservedBeforeItsItems) {
  // (F, F, 'a b') with F = frozendict({'a b': 1}): F takes index 0 before the
  // key inside it takes index 1, as 3.15's r_ref_reserve does.
  const std::string referenced =
      Stream().small_tuple(3).frozendict(kRef).short_ascii("a b", false, kRef).int32(1).null().ref(0).ref(1);
  EXPECT_BYTES_EQ(canon(referenced), referenced);
  // The same values with F flagged but never referenced: the canonical form
  // drops F's flag, so the key becomes index 0.
  const std::string flagged =
      Stream().small_tuple(2).frozendict(kRef).short_ascii("a b", false, kRef).int32(1).null().ref(1);
  EXPECT_BYTES_EQ(canon(flagged),
                  Stream().small_tuple(2).frozendict().short_ascii("a b", false, kRef).int32(1).null().ref(0).bytes());
}

TEST(MarshalFrozenDict, EqualFrozenDictsAreMerged) {
  // Written in full twice (two equal objects in CPython): one value.
  const std::string twice = Stream()
                                .small_tuple(2)
                                .frozendict()
                                .short_ascii("a")
                                .small_tuple(2)
                                .int32(1)
                                .int32(2)
                                .null()
                                .frozendict()
                                .short_ascii("a")
                                .small_tuple(2)
                                .int32(1)
                                .int32(2)
                                .null();
  EXPECT_BYTES_EQ(
      canon(twice),
      Stream().small_tuple(2).frozendict(kRef).short_ascii("a").small_tuple(2).int32(1).int32(2).null().ref(0).bytes());
  // Equal however the input wrote its items (references, 'I', 'a').
  const std::string spelled = Stream()
                                  .small_tuple(2)
                                  .frozendict()
                                  .short_ascii("a a", false, kRef)
                                  .int32(7)
                                  .null()
                                  .frozendict()
                                  .ref(0)
                                  .int64(7)
                                  .null();
  EXPECT_BYTES_EQ(canon(spelled),
                  Stream().small_tuple(2).frozendict(kRef).short_ascii("a a").int32(7).null().ref(0).bytes());
}

TEST(MarshalFrozenDict, FrozenDictsDifferingInOrderTypeOrVariantAreNotMerged) {
  // The same items in another order: another value (the items are merged).
  const std::string order = Stream()
                                .small_tuple(2)
                                .frozendict()
                                .short_ascii("a")
                                .int32(1)
                                .short_ascii("b")
                                .int32(2)
                                .null()
                                .frozendict()
                                .short_ascii("b")
                                .int32(2)
                                .short_ascii("a")
                                .int32(1)
                                .null();
  EXPECT_BYTES_EQ(canon(order), Stream()
                                    .small_tuple(2)
                                    .frozendict()
                                    .short_ascii("a", false, kRef)
                                    .int32(1, kRef)
                                    .short_ascii("b", false, kRef)
                                    .int32(2, kRef)
                                    .null()
                                    .frozendict()
                                    .ref(2)
                                    .ref(3)
                                    .ref(0)
                                    .ref(1)
                                    .null()
                                    .bytes());
  // Keys 1 and True, values 2.0 and 2, -0.0 and 0.0, b'k' and 'k': all distinct.
  const std::vector<std::string> distinct = {
      Stream().frozendict().int32(1).none().null(),           Stream().frozendict().type('T').none().null(),
      Stream().frozendict().none().binary_float(2.0).null(),  Stream().frozendict().none().int32(2).null(),
      Stream().frozendict().none().binary_float(-0.0).null(), Stream().frozendict().none().binary_float(0.0).null(),
      Stream().frozendict().bytes_object("k").none().null(),  Stream().frozendict().short_ascii("k").none().null(),
  };
  Stream all;
  all.small_tuple(static_cast<std::uint8_t>(distinct.size()));
  for (const auto& d : distinct) all.raw(d);
  EXPECT_BYTES_EQ(canon(all), all.bytes());
}

TEST(MarshalFrozenDict, NotMergedWithADictOrATupleOfItsItems) {
  const std::string in = Stream()
                             .small_tuple(3)
                             .frozendict()
                             .short_ascii("k k")
                             .none()
                             .null()
                             .dict()
                             .short_ascii("k k")
                             .none()
                             .null()
                             .small_tuple(2)
                             .short_ascii("k k")
                             .none();
  EXPECT_BYTES_EQ(canon(in), Stream()
                                 .small_tuple(3)
                                 .frozendict()
                                 .short_ascii("k k", false, kRef)
                                 .none()
                                 .null()
                                 .dict()
                                 .ref(0)
                                 .none()
                                 .null()
                                 .small_tuple(2)
                                 .ref(0)
                                 .none()
                                 .bytes());
}

TEST(MarshalFrozenDict, FrozenDictsHoldingAMutableObjectKeepTheirIdentity) {
  // frozendict({'a': []}) twice: two objects (a mutable value has identity).
  const std::string two =
      Stream().small_tuple(2).frozendict().short_ascii("a").list(0).null().frozendict().short_ascii("a").list(0).null();
  EXPECT_BYTES_EQ(canon(two), Stream()
                                  .small_tuple(2)
                                  .frozendict()
                                  .short_ascii("a", false, kRef)
                                  .list(0)
                                  .null()
                                  .frozendict()
                                  .ref(0)
                                  .list(0)
                                  .null()
                                  .bytes());
  // Two frozendicts holding the same list stay two objects, as tuples would.
  const std::string same_list = Stream()
                                    .small_tuple(2)
                                    .frozendict()
                                    .short_ascii("a", false, kRef)
                                    .list(0, kRef)
                                    .null()
                                    .frozendict()
                                    .ref(0)
                                    .ref(1)
                                    .null();
  EXPECT_BYTES_EQ(canon(same_list), same_list);
  // One such object referenced twice stays one object.
  const std::string shared = Stream().small_tuple(2).frozendict(kRef).short_ascii("a").set(0).null().ref(0);
  EXPECT_BYTES_EQ(canon(shared), shared);
  // A tuple holding one is not merged either.
  const std::string holders = Stream()
                                  .small_tuple(2)
                                  .small_tuple(1)
                                  .frozendict()
                                  .none()
                                  .dict()
                                  .null()
                                  .null()
                                  .small_tuple(1)
                                  .frozendict()
                                  .none()
                                  .dict()
                                  .null()
                                  .null();
  EXPECT_BYTES_EQ(canon(holders), holders);
}

TEST(MarshalFrozenDict, NestedAndInsideOtherContainers) {
  // frozendict({'a': frozendict({'b': frozendict()})})
  const std::string nested =
      Stream().frozendict().short_ascii("a").frozendict().short_ascii("b").frozendict().null().null().null();
  EXPECT_BYTES_EQ(canon(nested), nested);
  // In a frozenset, ordered by its canonical bytes ('i' 0x69 < '}' 0x7d); the
  // same frozendict as a dict key and in a list is one value.
  const std::string fd = Stream().frozendict().short_ascii("a").int32(1).null();
  const std::string in =
      Stream().small_tuple(3).frozenset(2).raw(fd).int32(5).dict().raw(fd).none().null().list(1).raw(fd);
  EXPECT_BYTES_EQ(canon(in), Stream()
                                 .small_tuple(3)
                                 .frozenset(2)
                                 .int32(5)
                                 .frozendict(kRef)
                                 .short_ascii("a")
                                 .int32(1)
                                 .null()
                                 .dict()
                                 .ref(0)
                                 .none()
                                 .null()
                                 .list(1)
                                 .ref(0)
                                 .bytes());
}

TEST(MarshalFrozenDict, CanonicalizeIsIdempotent) {
  const std::vector<std::string> inputs = {
      Stream().small_tuple(3).frozendict(kRef).short_ascii("a b", false, kRef).int32(1).null().ref(0).ref(1),
      Stream().frozendict().frozenset(2).int32(2).int32(1).frozendict().null().null(),
      Stream().frozendict().short_ascii("k").list(1).int32(1).short_ascii("j").int32(1).null(),
      Stream().frozendict().short_ascii("k").int32(1).short_ascii("x").null(),
  };
  for (const auto& in : inputs) {
    const std::string once = canon(in);
    EXPECT_BYTES_EQ(canon(once), once);
  }
}

std::string nested_tuples(int depth, const std::string& innermost) {
  Stream s;
  for (int i = 0; i < depth; ++i) s.small_tuple(1);
  return s.bytes() + innermost;
}

TEST(MarshalFrozenDict, Rejections) {
  expect_rejected(Stream().frozendict(), "an object was expected, no bytes remain", 1);
  expect_rejected(Stream().frozendict().short_ascii("k"), "an object was expected, no bytes remain", 4);
  // A reference to the frozendict from inside it: its slot is reserved, not
  // filled (3.15 says "invalid reference").
  expect_rejected(Stream().frozendict(kRef).short_ascii("k").ref(0).null(),
                  "reference 0 to an object that is not complete yet", 4);
  expect_rejected(Stream().frozendict().short_ascii("k").small_tuple(1).null().null(),
                  "NULL object ('0') inside a tuple", 6);
  expect_rejected(Stream().frozendict().null().null(), "1 trailing bytes after the object", 2);
  // Its NULL is read one level down, like a dict's.
  EXPECT_EQ(canon(nested_tuples(1998, "}0")), nested_tuples(1998, "}0"));
  expect_rejected(nested_tuples(1999, "}0"), "nested deeper than 2000", 3999);
}

TEST(MarshalFrozenDict, DeepFrozenDictMovedBySetOrderIsRejectedNamingIt) {
  // A frozenset {X, B}: X is 100 nested frozendicts, B is 1990 nested tuples
  // ending in a reference to X. B sorts first (')' < '}'), which would write X at
  // depth 1992 and its contents beyond CPython's limit.
  Stream s;
  s.frozenset(2);
  for (int i = 0; i < 100; ++i) {
    s.frozendict(i == 0 ? kRef : 0);
    if (i == 0) {
      s.short_ascii("k", false, kRef);
    } else {
      s.ref(1);
    }
  }
  s.frozendict().null();
  for (int i = 0; i < 100; ++i) s.null();
  for (int i = 0; i < 1990; ++i) s.small_tuple(1);
  s.ref(0);
  try {
    canon(s);
    ADD_FAILURE() << "accepted";
  } catch (const MarshalError& e) {
    EXPECT_NE(std::string(e.what()).find("the contents of the frozendict read here would be nested deeper than 2000"),
              std::string::npos)
        << e.what();
  }
}

// A code object whose co_consts is `consts` (the 3.15 compiler emits no
// frozendicts; code.replace(co_consts=...) does), as the inspection walk needs one.
std::string code_with_consts(const std::string& consts) {
  return code_object(CodeLayout::Py311, 1, [&](Stream& s, int i) {
    if (i == 1) {
      s.raw(consts);
    } else if (i == 5) {
      s.short_ascii("m.py");
    } else {
      s.bytes_object(std::string("field ") + static_cast<char>('0' + i));
    }
  });
}

TEST(MarshalFrozenDict, TheInspectionWalkDecidesLikeCanonicalize) {
  const std::string fd = Stream().frozendict().short_ascii("a a").int32(1).null();
  const std::vector<std::string> consts = {
      Stream().small_tuple(1).raw(fd),
      Stream().small_tuple(2).raw(fd).raw(fd),                                                          // written twice
      Stream().small_tuple(2).frozendict(kRef).short_ascii("a a", false, kRef).int32(1).null().ref(1),  // renumbered
      Stream().small_tuple(1).frozendict(kRef).short_ascii("a a").int32(1).null(),                      // flag unused
      Stream().small_tuple(1).frozendict().short_ascii("a a").int32(1).short_ascii("k").null(),         // dropped key
      Stream().small_tuple(1).frozendict().short_ascii("a a").int32(1).type('0', kRef),                 // flagged NULL
      Stream().small_tuple(1).frozendict().null(),
      Stream()
          .small_tuple(2)
          .frozendict()
          .short_ascii("a")
          .int32(1)
          .short_ascii("b")
          .int32(2)
          .null()
          .frozendict()
          .short_ascii("b")
          .int32(2)
          .short_ascii("a")
          .int32(1)
          .null(),  // not equal
      Stream()
          .small_tuple(2)
          .frozendict()
          .short_ascii("a")
          .list(0)
          .null()
          .frozendict()
          .short_ascii("a")
          .list(0)
          .null(),  // mutable values
      Stream()
          .small_tuple(2)
          .frozendict()
          .short_ascii("a")
          .small_tuple(0)
          .null()
          .small_tuple(2)
          .short_ascii("a")
          .small_tuple(0),  // items equal to a tuple's
  };
  int canonical = 0;
  for (const auto& c : consts) {
    const std::string code = code_with_consts(c);
    SCOPED_TRACE(hex(c));
    const std::string once = canon(code);
    EXPECT_EQ(inspect_body(code, CodeLayout::Py311).canonical, once == code);
    EXPECT_TRUE(inspect_body(once, CodeLayout::Py311).canonical);
    EXPECT_EQ(inspect_body(code, CodeLayout::Py311).code_filename, "m.py");
    canonical += once == code;
  }
  EXPECT_GT(canonical, 0);
  EXPECT_LT(canonical, static_cast<int>(consts.size()));
}

}  // namespace
}  // namespace pycemit::marshal::testing
