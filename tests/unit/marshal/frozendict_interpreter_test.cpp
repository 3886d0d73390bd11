// Frozendicts against the real CPython 3.15 (and later): its marshal.dumps() of
// frozendicts alone, nested, repeated, inside tuples, frozensets, dicts, lists
// and sets, holding mutable objects, and in code objects (the 3.15 compiler
// emits no frozendict constants, so code.replace(co_consts=...) puts them
// there), in a fresh process and in one that holds extra references (so that
// CPython flags differently). The canonical bytes must load in 3.15 to objects
// identical to the originals (types, bits, item order, sharing of mutable
// objects), be a fixed point, not depend on the process state, and be decided
// by the inspection walk as canonicalize() decides. Skipped where no CPython
// 3.15 is installed.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "helpers.h"
#include "interpreter_helpers.h"
#include "stream.h"
#include "test_interpreters.h"

namespace pycemit::marshal::testing {
namespace {

using pycemit::testing::installed_cpython_interpreters;
using pycemit::testing::run_and_capture;

// Writes marshal.dumps() of each case to <dir>/<name>.bin and prints the names.
// argv: dir, state ("fresh", or "busy": every object reachable from the cases
// gets an extra reference first).
constexpr const char* kFrozenDictCases = R"PY(
import marshal, os, sys

out_dir, state = sys.argv[1], sys.argv[2]
fd = frozendict
shared = fd(a=1, b=(1, 2))
mutable = fd(a=[1])

def deep(levels):
    x = fd()
    for _ in range(levels):
        x = fd(k=x)
    return x

source = "def f():\n    return 1\nx = (1, 2)\n"
module = compile(source, "/virtual/frozendict.py", "exec", dont_inherit=True)
inner = [c for c in module.co_consts if hasattr(c, "co_code")][0]
inner = inner.replace(co_consts=inner.co_consts + (fd(k=fd(j=shared)), shared))
module = module.replace(co_consts=tuple(inner if hasattr(c, "co_code") else c for c in module.co_consts)
                        + (shared, fd(a=1, b=(1, 2)), fd(), fd(), frozenset({fd(a=1), fd(b=2), 1}),
                           (shared, shared), fd(z=1, a=2)))

CASES = {
    "simple": fd({"a": 1}),
    "empty": fd(),
    "empties": (fd(), fd(), fd(a=fd())),
    "nested": fd(a=fd(b=fd(c=fd())), d=(1, fd(x=2))),
    "same_object": (shared, shared, shared),
    "equal_objects": (fd(a=1, b=(1, 2)), fd(a=1, b=(1, 2)), fd({"a": 1, "b": (1, 2)})),
    "order": (fd(z=1, a=2, m=3), fd(a=2, m=3, z=1), fd(m=3, z=1, a=2)),
    "key_types": fd({1: "int", 2.5: "float", -0.0: "negative zero", (1, 2): "tuple", "k": "str",
                     b"k": "bytes", None: "none", False: "false", 1j: "complex",
                     frozenset({1}): "frozenset", fd(a=1): "frozendict", ...: "ellipsis"}),
    "value_types": fd(i=1, f=1.0, b=True, z=-0.0, p=0.0, c=1j, big=10**30, neg=-2**31 - 1,
                      s="\xe9t\xe9", u="\U0001F600", by=b"\x00\xff", n=None, e=...,
                      sl=slice(1, 2, None), t=(), fs=frozenset()),
    "in_frozenset": frozenset({fd(a=1), fd(b=2), fd(), 1, "x", (fd(c=3),)}),
    "in_dict": {fd(a=1): fd(b=2), "k": fd(a=1)},
    "in_list": [fd(a=1), fd(a=1), shared, shared],
    "in_set": {fd(a=1), fd(b=2), (fd(a=1),)},
    "with_mutable": (fd(a=[1, 2]), fd(a=[1, 2]), fd(d={1: 2}), fd(s={1, 2})),
    "mutable_shared": (mutable, mutable, fd(a=[1]), fd(a=mutable["a"]), fd(a=mutable["a"])),
    "deep": deep(300),
    "wide": fd({"k%d" % i: i for i in range(300)}),
    "code": module,
}

keep = []

def hold(obj):
    keep.append(obj)
    if isinstance(obj, (tuple, list, set, frozenset)):
        for x in obj:
            hold(x)
    elif isinstance(obj, (dict, fd)):
        for k, v in obj.items():
            hold(k)
            hold(v)
    elif hasattr(obj, "co_consts"):
        hold(obj.co_consts)

for name, value in sorted(CASES.items()):
    if state == "busy":
        hold(value)
    with open(os.path.join(out_dir, name + ".bin"), "wb") as f:
        f.write(marshal.dumps(value))
    print(name)
)PY";

struct Corpus {
  std::unique_ptr<TempDir> dir = std::make_unique<TempDir>();
  std::vector<std::string> names;
  std::string bin(const std::string& name) const { return read_file(dir->path() / (name + ".bin")); }
};

Corpus make_corpus(const std::string& python, const std::string& state) {
  Corpus corpus;
  const std::string out = run_and_capture({python, "-S", "-c", kFrozenDictCases, corpus.dir->path().string(), state});
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) corpus.names.push_back(line);
  }
  return corpus;
}

// Every CPython >= 3.15 installed.
std::vector<TestInterpreter> with_frozendict() {
  std::vector<TestInterpreter> result;
  for (const auto& interpreter : installed_cpython_interpreters()) {
    if (interpreter.minor >= 15) result.push_back(interpreter);
  }
  return result;
}

class MarshalFrozenDictInterpreters : public ::testing::Test {
 protected:
  void SetUp() override {
    if (with_frozendict().empty()) GTEST_SKIP() << "no CPython 3.15 installed";
  }
};

TEST_F(MarshalFrozenDictInterpreters, CanonicalBytesLoadIdenticalAndDoNotDependOnTheProcess) {
  for (const auto& python : with_frozendict()) {
    SCOPED_TRACE(python.label());
    const CodeLayout layout = layout_of(python);
    const Corpus fresh = make_corpus(python.path, "fresh");
    const Corpus busy = make_corpus(python.path, "busy");
    ASSERT_EQ(fresh.names, busy.names);
    EXPECT_GE(fresh.names.size(), 18u);
    int busy_differs = 0;
    int changed = 0;
    for (const auto& name : fresh.names) {
      SCOPED_TRACE(name);
      const std::string raw = fresh.bin(name);
      const std::string canonical = canonicalize(raw, layout);
      EXPECT_BYTES_EQ(canonicalize(canonical, layout), canonical);
      EXPECT_BYTES_EQ(canonicalize(busy.bin(name), layout), canonical);
      busy_differs += busy.bin(name) != raw;
      changed += canonical != raw;
      write_file(fresh.dir->path() / (name + ".canon"), canonical);
    }
    EXPECT_GT(busy_differs, 0) << "the extra references changed nothing: the test proves nothing";
    EXPECT_GT(changed, 0);
    const std::set<std::string> ok = compare_loaded(python.path, fresh.dir->path());
    for (const auto& name : fresh.names) EXPECT_TRUE(ok.count(name)) << name << " was not verified";
  }
}

TEST_F(MarshalFrozenDictInterpreters, TheEncodingAndTheCanonicalReferenceNumbering) {
  for (const auto& python : with_frozendict()) {
    SCOPED_TRACE(python.label());
    const CodeLayout layout = layout_of(python);
    const Corpus fresh = make_corpus(python.path, "fresh");
    // frozendict({"a": 1}): '}' | FLAG_REF, 'Z' | FLAG_REF "a", 'i' | FLAG_REF 1, NULL.
    EXPECT_BYTES_EQ(fresh.bin("simple"), std::string("\xfd\xda\x01"
                                                     "a"
                                                     "\xe9\x01\x00\x00\x00"
                                                     "0",
                                                     10));
    EXPECT_BYTES_EQ(canonicalize(fresh.bin("simple"), layout),
                    Stream().frozendict().short_ascii("a").int32(1).null().bytes());
    // Three equal frozendicts: the first is index 0, reserved before the int 1
    // inside it takes index 1; the same object three times gives the same bytes.
    const std::string equal = Stream()
                                  .small_tuple(3)
                                  .frozendict(kRef)
                                  .short_ascii("a")
                                  .int32(1, kRef)
                                  .short_ascii("b")
                                  .small_tuple(2)
                                  .ref(1)
                                  .int32(2)
                                  .null()
                                  .ref(0)
                                  .ref(0);
    EXPECT_BYTES_EQ(canonicalize(fresh.bin("equal_objects"), layout), equal);
    EXPECT_BYTES_EQ(canonicalize(fresh.bin("same_object"), layout), equal);
    // Items in another order: other values, never sorted.
    const std::string order = canonicalize(fresh.bin("order"), layout);
    EXPECT_EQ(order.substr(0, 6), std::string(")\x03}\xfa\x01z", 6)) << hex(order);
    EXPECT_EQ(std::count(order.begin(), order.end(), '}'), 3) << hex(order);
  }
}

TEST_F(MarshalFrozenDictInterpreters, TheInspectionWalkDecidesCodeObjectsWithFrozenDicts) {
  for (const auto& python : with_frozendict()) {
    SCOPED_TRACE(python.label());
    const CodeLayout layout = layout_of(python);
    for (const std::string state : {"fresh", "busy"}) {
      const Corpus corpus = make_corpus(python.path, state);
      const std::string raw = corpus.bin("code");
      const std::string canonical = canonicalize(raw, layout);
      EXPECT_NE(canonical, raw);
      EXPECT_FALSE(inspect_body(raw, layout).canonical);
      EXPECT_TRUE(inspect_body(canonical, layout).canonical);
      EXPECT_EQ(inspect_body(raw, layout).code_filename, "/virtual/frozendict.py");
      EXPECT_EQ(code_filename(canonical, layout), "/virtual/frozendict.py");
    }
  }
}

// Streams no writer produces, with their exact canonical forms: 3.15 loads
// both to identical objects.
TEST_F(MarshalFrozenDictInterpreters, HandBuiltStreamsLoadIdenticalToTheirCanonicalForm) {
  const std::vector<std::pair<std::string, std::string>> streams = {
      // (F, F, 'a b'): F reserved before its key.
      {"reserved_first",
       Stream().small_tuple(3).frozendict(kRef).short_ascii("a b", false, kRef).int32(1).null().ref(0).ref(1)},
      // F flagged, not referenced: its key is renumbered to 0.
      {"renumbered", Stream().small_tuple(2).frozendict(kRef).short_ascii("a b", false, kRef).int32(1).null().ref(1)},
      {"null_value", Stream().frozendict().short_ascii("k").int32(1).short_ascii("dropped").null()},
      {"flagged_null", Stream().frozendict().short_ascii("k").int32(1).type('0', kRef)},
      // A repeated key: first position, last value, whether canonical or not.
      {"repeated_key",
       Stream().frozendict().short_ascii("a").int32(1).short_ascii("b").int32(1).short_ascii("a").int32(2).null()},
      {"spelled_differently", Stream()
                                  .small_tuple(2)
                                  .frozendict()
                                  .short_ascii("a a", false, kRef)
                                  .int32(7)
                                  .null()
                                  .frozendict()
                                  .ref(0)
                                  .int64(7)
                                  .null()},
      {"in_frozenset", Stream().frozenset(3).frozendict().int32(2).none().null().int32(5).frozendict().null()},
      {"holding_a_list", Stream().small_tuple(2).frozendict(kRef).short_ascii("a").list(0).null().ref(0)},
  };
  for (const auto& python : with_frozendict()) {
    SCOPED_TRACE(python.label());
    TempDir dir;
    for (const auto& [name, bytes] : streams) {
      write_file(dir.path() / (name + ".bin"), bytes);
      write_file(dir.path() / (name + ".canon"), canonicalize(bytes, layout_of(python)));
    }
    EXPECT_EQ(compare_loaded(python.path, dir.path()).size(), streams.size());
  }
}

TEST_F(MarshalFrozenDictInterpreters, LowerMarshalVersionsRefuseAFrozenDict) {
  // What marshal.h documents: no fallback to a dict below version 6. (The
  // frozendict's own FLAG_REF follows its refcount: masked here.)
  for (const auto& python : with_frozendict()) {
    SCOPED_TRACE(python.label());
    const std::string out = run_and_capture({python.path, "-S", "-c",
                                             "import marshal\n"
                                             "for v in range(marshal.version + 1):\n"
                                             "    try:\n"
                                             "        b = marshal.dumps(frozendict(a=1), v)\n"
                                             "        print(v, (bytes([b[0] & 0x7f]) + b[1:]).hex())\n"
                                             "    except ValueError as e:\n"
                                             "        print(v, e)\n"});
    EXPECT_EQ(out,
              "0 unmarshallable object\n1 unmarshallable object\n2 unmarshallable object\n"
              "3 unmarshallable object\n4 unmarshallable object\n5 unmarshallable object\n"
              "6 7dda0161e90100000030\n");
  }
}

}  // namespace
}  // namespace pycemit::marshal::testing
