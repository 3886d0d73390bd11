// The canonical form: references, FLAG_REF, equality, set order, idempotence.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "helpers.h"
#include "stream.h"

namespace pycemit::marshal::testing {
namespace {

TEST(MarshalCanonical, FlagRefOnlyOnReferencedObjects) {
  // CPython flags whatever had a refcount above 1, referenced or not.
  const std::string in =
      Stream().small_tuple(3, kRef).short_ascii("a bc", false, kRef).short_ascii("d ef", false, kRef).ref(1);
  const std::string expected = Stream().small_tuple(3).short_ascii("a bc", false, kRef).short_ascii("d ef").ref(0);
  EXPECT_BYTES_EQ(canon(in), expected);
}

TEST(MarshalCanonical, RepeatsWrittenInFullBecomeReferences) {
  const std::string in = Stream().small_tuple(3).short_ascii("a bc").int32(7).short_ascii("a bc");
  EXPECT_BYTES_EQ(canon(in), Stream().small_tuple(3).short_ascii("a bc", false, kRef).int32(7).ref(0).bytes());
}

TEST(MarshalCanonical, ReferenceIndicesAreInPreOrderOfFlaggedObjects) {
  // (X, 'xyz', X, 'xyz') with X = ('abc', 'abc'): X is flagged before its
  // children (index 0), then 'abc' (1), then 'xyz' (2).
  const std::string in = Stream()
                             .small_tuple(4)
                             .small_tuple(2)
                             .short_ascii("a bc")
                             .short_ascii("a bc")
                             .short_ascii("x yz")
                             .small_tuple(2)
                             .short_ascii("a bc")
                             .short_ascii("a bc")
                             .short_ascii("x yz");
  const std::string expected = Stream()
                                   .small_tuple(4)
                                   .small_tuple(2, kRef)
                                   .short_ascii("a bc", false, kRef)
                                   .ref(1)
                                   .short_ascii("x yz", false, kRef)
                                   .ref(0)
                                   .ref(2);
  EXPECT_BYTES_EQ(canon(in), expected);
  EXPECT_BYTES_EQ(canon(expected), expected);
}

TEST(MarshalCanonical, TheInternedFlagFollowsTheTextNotTheInput) {
  // CPython's flag for the same text varies with process state; the canonical
  // flag is a function of the text, so both spellings become one object.
  const std::string name = Stream().small_tuple(2).short_ascii("ab", true).short_ascii("ab");
  EXPECT_BYTES_EQ(canon(name), Stream().small_tuple(2).short_ascii("ab", true, kRef).ref(0).bytes());
  const std::string qualname = Stream().small_tuple(2).short_ascii("f.<locals>.K", true).short_ascii("f.<locals>.K");
  EXPECT_BYTES_EQ(canon(qualname), Stream().small_tuple(2).short_ascii("f.<locals>.K", false, kRef).ref(0).bytes());
  const std::string one = Stream().small_tuple(2).short_ascii("a", true).short_ascii("a");
  EXPECT_BYTES_EQ(canon(one), Stream().small_tuple(2).short_ascii("a", false, kRef).ref(0).bytes());
}

TEST(MarshalCanonical, IntFloatAndBoolAreDistinct) {
  const std::string in =
      Stream().small_tuple(6).int32(1).binary_float(1.0).type('T').int32(1).binary_float(1.0).type('T');
  EXPECT_BYTES_EQ(
      canon(in),
      Stream().small_tuple(6).int32(1, kRef).binary_float(1.0, kRef).type('T').ref(0).ref(1).type('T').bytes());
  // An int read from 'i', 'I' and 'l' is one value.
  const std::string ints = Stream().small_tuple(3).int32(5).int64(5).long_digits(1, {5});
  EXPECT_BYTES_EQ(canon(ints), Stream().small_tuple(3).int32(5, kRef).ref(0).ref(0).bytes());
  // Complex 1+0j differs from 1.0.
  const std::string complex_and_float = Stream().small_tuple(2).binary_complex(1.0, 0.0).binary_float(1.0);
  EXPECT_BYTES_EQ(canon(complex_and_float), complex_and_float);
}

TEST(MarshalCanonical, FloatsCompareByBits) {
  const std::string zeros = Stream().small_tuple(2).binary_float(0.0).binary_float(-0.0);
  EXPECT_BYTES_EQ(canon(zeros), zeros);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::string nans = Stream().small_tuple(2).binary_float(nan).binary_float(nan);
  EXPECT_BYTES_EQ(canon(nans), Stream().small_tuple(2).binary_float(nan, kRef).ref(0).bytes());
  const std::string signed_nans = Stream().small_tuple(2).binary_float(nan).binary_float(-nan);
  EXPECT_BYTES_EQ(canon(signed_nans), signed_nans);
  const std::string complex_zeros = Stream().small_tuple(2).binary_complex(0.0, 0.0).binary_complex(0.0, -0.0);
  EXPECT_BYTES_EQ(canon(complex_zeros), complex_zeros);
}

TEST(MarshalCanonical, BytesAndStrAreDistinct) {
  const std::string in = Stream().small_tuple(2).bytes_object("a b").short_ascii("a b");
  EXPECT_BYTES_EQ(canon(in), in);
}

TEST(MarshalCanonical, EqualTuplesAndCodeObjectsAreMerged) {
  const std::string tuples = Stream().small_tuple(2).small_tuple(2).int32(1).none().tuple(2).int32(1).none();
  EXPECT_BYTES_EQ(canon(tuples), Stream().small_tuple(2).small_tuple(2, kRef).int32(1).none().ref(0).bytes());
  // Tuples of different element types differ.
  const std::string differ = Stream().small_tuple(2).small_tuple(1).int32(1).small_tuple(1).binary_float(1.0);
  EXPECT_BYTES_EQ(canon(differ), differ);

  const auto field = [](Stream& s, int i) {
    if (i == 0) {
      s.bytes_object("c ode");
    } else {
      s.small_tuple(0);
    }
  };
  const std::string code = code_object(true, 3, field);
  const std::string two_codes = Stream().small_tuple(2).raw(code).raw(code);
  // First code object flagged (index 0); its empty tuples become one object (index 1).
  const std::string expected = Stream()
                                   .small_tuple(2)
                                   .raw(code_object(
                                       true, 3,
                                       [](Stream& s, int i) {
                                         if (i == 0) {
                                           s.bytes_object("c ode");
                                         } else if (i == 1) {
                                           s.small_tuple(0, kRef);
                                         } else {
                                           s.ref(1);
                                         }
                                       },
                                       kRef))
                                   .ref(0);
  EXPECT_BYTES_EQ(canon(two_codes), expected);
  // Code objects differing in one int field are not merged.
  std::string other = code;
  other[1] = 9;  // co_argcount
  const std::string differing = Stream().small_tuple(2).raw(code).raw(other);
  const std::string out = canon(differing);
  EXPECT_EQ(out[2], 'c') << "the first code object is not flagged: nothing refers to it";
}

TEST(MarshalCanonical, MutableContainersKeepTheirIdentity) {
  // The same list referenced twice stays shared.
  const std::string shared = Stream().small_tuple(2).list(1, kRef).int32(1).ref(0);
  EXPECT_BYTES_EQ(canon(shared), shared);
  // Two distinct equal lists stay distinct (neither flagged nor referenced);
  // the int they both hold is one object.
  const std::string distinct = Stream().small_tuple(2).list(1).int32(1).list(1).int32(1);
  EXPECT_BYTES_EQ(canon(distinct), Stream().small_tuple(2).list(1).int32(1, kRef).list(1).ref(0).bytes());
  // Likewise dicts and sets.
  const std::string dicts = Stream().small_tuple(2).dict().null().dict().null();
  EXPECT_BYTES_EQ(canon(dicts), dicts);
  const std::string sets = Stream().small_tuple(2).set(0).set(0);
  EXPECT_BYTES_EQ(canon(sets), sets);
  // A tuple holding a list is not merged with an equal tuple.
  const std::string holders = Stream().small_tuple(2).small_tuple(1).list(0).small_tuple(1).list(0);
  EXPECT_BYTES_EQ(canon(holders), holders);
  // But the immutable items inside lists are.
  const std::string items = Stream().list(2).short_ascii("x y").short_ascii("x y");
  EXPECT_BYTES_EQ(canon(items), Stream().list(2).short_ascii("x y", false, kRef).ref(0).bytes());
}

// The standalone canonical bytes of each element, sorted: the canonical order.
std::string frozenset_of(std::vector<std::string> elements) {
  std::sort(elements.begin(), elements.end());
  Stream s;
  s.frozenset(static_cast<std::int64_t>(elements.size()));
  for (const auto& e : elements) s.raw(e);
  return s;
}

TEST(MarshalCanonical, SetElementsAreSortedByTheirCanonicalBytes) {
  const std::vector<std::string> elements = {
      Stream().int32(1),
      Stream().short_ascii("a"),
      Stream().small_tuple(2).int32(2).int32(3),
      Stream().binary_float(2.5),
      Stream().binary_float(-0.0),
      Stream().short_ascii("b", true),  // one character: written as 'z'
      Stream().int64(1LL << 40),
  };
  std::vector<std::string> canonical_elements;
  for (const auto& e : elements) canonical_elements.push_back(canon(e));
  const std::string expected = frozenset_of(canonical_elements);
  std::vector<std::size_t> order(elements.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  int permutations = 0;
  do {
    Stream in;
    in.frozenset(static_cast<std::int64_t>(elements.size()), kRef);
    for (std::size_t i : order) in.raw(elements[i]);
    EXPECT_BYTES_EQ(canon(in), expected);
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()) && permutations < 200);
}

TEST(MarshalCanonical, SetOrderIgnoresSharingOutsideTheElement) {
  // The element ('ab', 'ab') sorts by its standalone bytes even where 'ab' was
  // seen before the set (so that it is written as a reference there).
  const std::string in = Stream()
                             .small_tuple(2)
                             .short_ascii("a b")
                             .frozenset(2)
                             .small_tuple(2)
                             .short_ascii("a b")
                             .short_ascii("a b")
                             .short_ascii("z z");
  const std::string expected = Stream()
                                   .small_tuple(2)
                                   .short_ascii("a b", false, kRef)
                                   .frozenset(2)
                                   .small_tuple(2)
                                   .ref(0)
                                   .ref(0)
                                   .short_ascii("z z");
  // Standalone: ')' (0x29) < 'z' (0x7a), so the tuple comes first.
  EXPECT_BYTES_EQ(canon(in), expected);
}

TEST(MarshalCanonical, EqualFrozensetsInAnyOrderAreMerged) {
  const std::string in =
      Stream().small_tuple(2).frozenset(2).int32(1).short_ascii("q").frozenset(2).short_ascii("q").int32(1);
  EXPECT_BYTES_EQ(canon(in), Stream().small_tuple(2).frozenset(2, kRef).int32(1).short_ascii("q").ref(0).bytes());
}

TEST(MarshalCanonical, NestedSetsAreOrderedInside) {
  const std::string inner_a = Stream().frozenset(2).short_ascii("y").short_ascii("x");
  const std::string inner_b = Stream().frozenset(2).short_ascii("x").short_ascii("y");
  const std::string in_a = Stream().frozenset(2).raw(inner_a).int32(0);
  const std::string in_b = Stream().frozenset(2).int32(0).raw(inner_b);
  EXPECT_BYTES_EQ(canon(in_a), canon(in_b));
  const std::string inner_canonical = Stream().frozenset(2).short_ascii("x").short_ascii("y");
  EXPECT_BYTES_EQ(canon(in_a), frozenset_of({inner_canonical, canon(Stream().int32(0))}));
}

TEST(MarshalCanonical, MutableSetsAreOrderedToo) {
  const std::string in = Stream().set(3).short_ascii("c").short_ascii("a").short_ascii("b");
  EXPECT_BYTES_EQ(canon(in), Stream().set(3).short_ascii("a").short_ascii("b").short_ascii("c").bytes());
}

TEST(MarshalCanonical, DeepObjectMovedBySetOrderIsRejectedNotWrittenTooDeep) {
  // A frozenset {X, B}: X is 100 nested tuples, B is 1990 nested tuples ending in
  // a reference to X. Input order writes X at depth 2; B sorts first (its bytes
  // stay ')' where X's reach 'i'), which would write X at depth 1992 and its
  // innermost int at depth 2091, beyond what CPython loads.
  Stream s;
  s.frozenset(2);
  for (int i = 0; i < 100; ++i) s.small_tuple(1, i == 0 ? kRef : 0);
  s.int32(0);
  for (int i = 0; i < 1990; ++i) s.small_tuple(1);
  s.ref(0);
  try {
    canon(s);
    ADD_FAILURE() << "accepted";
  } catch (const MarshalError& e) {
    EXPECT_NE(std::string(e.what()).find("nested deeper than 2000"), std::string::npos) << e.what();
  }
}

TEST(MarshalCanonical, HugeSortKeysAreRejectedNotComputed) {
  // One large shared tuple, then a frozenset of 200 elements that each refer to
  // it: sorting them would take 200 copies of the tuple.
  Stream s;
  s.small_tuple(2).tuple(300000, kRef);
  for (int i = 0; i < 300000; ++i) s.none();
  s.frozenset(200);
  for (int i = 0; i < 200; ++i) s.small_tuple(2).ref(0).int32(i);
  try {
    canon(s);
    ADD_FAILURE() << "accepted";
  } catch (const MarshalError& e) {
    EXPECT_NE(std::string(e.what()).find("too large to order canonically"), std::string::npos) << e.what();
  }
}

TEST(MarshalCanonical, Idempotent) {
  const std::vector<std::string> inputs = {
      Stream().small_tuple(3, kRef).short_ascii("a bc", false, kRef).short_ascii("d ef", false, kRef).ref(1),
      Stream().frozenset(3).short_ascii("z z").int32(1).binary_float(-0.0),
      Stream().small_tuple(2).list(1, kRef).int32(1).ref(0),
      Stream().dict().short_ascii("k", true).short_ascii("k").null(),
      Stream().small_tuple(2).slice(kRef).int32(1).none().none().ref(0),
      Stream().small_tuple(3).short_ascii("caf\xe9").int64(1LL << 50).text_float("2.5"),
      code_object(true, 1, [](Stream& st, int i) { st.short_ascii(i % 2 ? "same" : "other", i > 4); }),
  };
  for (const auto& in : inputs) {
    const std::string once = canon(in);
    EXPECT_BYTES_EQ(canon(once), once);
  }
}

TEST(MarshalCanonical, CodeFilename) {
  for (CodeLayout layout : {CodeLayout::Py38, CodeLayout::Py311, CodeLayout::PyPy311}) {
    const int filename_field = code_fields(layout).filename;
    const std::string code = code_object(layout, 1, [&](Stream& s, int i) {
      if (i == filename_field) {
        s.unicode("/src/caf\xc3\xa9.py", true);
      } else {
        s.small_tuple(0);
      }
    });
    EXPECT_EQ(code_filename(code, layout), "/src/caf\xc3\xa9.py");
    // The filename may be a reference to an earlier str.
    const std::string with_ref = code_object(layout, 1, [&](Stream& s, int i) {
      if (i == 0) {
        s.short_ascii("f.py", false, kRef);
      } else if (i == filename_field) {
        s.ref(0);
      } else {
        s.small_tuple(0);
      }
    });
    EXPECT_EQ(code_filename(with_ref, layout), "f.py");
    // Not a str.
    const std::string not_str = code_object(layout, 1, [](Stream& s, int) { s.none(); });
    try {
      code_filename(not_str, layout);
      ADD_FAILURE() << "accepted";
    } catch (const MarshalError& e) {
      EXPECT_NE(std::string(e.what()).find("co_filename is not a str"), std::string::npos) << e.what();
    }
  }
  try {
    code_filename(Stream().small_tuple(0).bytes(), CodeLayout::Py311);
    ADD_FAILURE() << "accepted";
  } catch (const MarshalError& e) {
    EXPECT_NE(std::string(e.what()).find("top-level object is not a code object"), std::string::npos) << e.what();
    EXPECT_EQ(e.offset(), 0u);
  }
}

// code_filename() builds nothing, but walks and checks the whole structure.
TEST(MarshalCanonical, CodeFilenameChecksTheStructure) {
  const auto code_with_consts = [](const std::function<void(Stream&)>& consts) {
    return code_object(true, 1, [&](Stream& s, int i) {
      if (i == 1) {
        consts(s);
      } else if (i == 5) {
        s.short_ascii("m.py");
      } else {
        s.small_tuple(0);
      }
    });
  };
  const std::string good = code_with_consts([](Stream& s) {
    s.small_tuple(3).int32(1).long_digits(2, {1, 2}).dict().short_ascii("k").int32(2).null();
  });
  EXPECT_EQ(code_filename(good, CodeLayout::Py311), "m.py");
  const std::vector<std::pair<std::string, std::string>> broken = {
      {code_with_consts([](Stream& s) { s.small_tuple(1).type('?'); }), "unknown type code 0x3f"},
      {code_with_consts([](Stream& s) { s.small_tuple(1).ref(3); }), "bad reference index 3"},
      {code_with_consts([](Stream& s) { s.small_tuple(1).type('0'); }), "NULL object outside a dict"},
      {good + "x", "1 bytes after the object"},
      {good.substr(0, good.size() - 3), "truncated data"},
  };
  for (const auto& [data, fragment] : broken) {
    try {
      code_filename(data, CodeLayout::Py311);
      ADD_FAILURE() << "accepted: " << fragment;
    } catch (const MarshalError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  }
  // Nesting deeper than CPython's limit.
  Stream deep;
  for (int i = 0; i < 2100; ++i) deep.small_tuple(1);
  deep.none();
  const std::string deep_bytes = deep.bytes();
  EXPECT_THROW(code_filename(code_with_consts([&](Stream& s) { s.raw(deep_bytes); }), CodeLayout::Py311), MarshalError);
}

TEST(MarshalCanonical, CodeLayoutForMinor) {
  for (int minor : {8, 9, 10}) EXPECT_EQ(code_layout_for_minor(minor), CodeLayout::Py38);
  // 3.15 keeps the 3.11 field list (checked on 3.15.2 by interpreters_test.cpp).
  for (int minor : {11, 12, 13, 14, 15}) EXPECT_EQ(code_layout_for_minor(minor), CodeLayout::Py311);
  EXPECT_THROW(code_layout_for_minor(7), std::invalid_argument);
  EXPECT_THROW(code_layout_for_minor(16), std::invalid_argument);
}

}  // namespace
}  // namespace pycemit::marshal::testing
