// Against every installed CPython >= 3.8 (3.15 included; PyPy: see
// library_test.cpp): canonicalize what marshal.dumps()
// wrote, load the canonical bytes back in the same interpreter and compare with
// the original object; and check that different process states give different
// CPython bytes but the same canonical bytes.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
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

// Writes marshal.dumps() of compiled code to <dir>/<name>.bin and the compile
// filename (UTF-8, surrogatepass) to <dir>/<name>.fn. argv: dir, state.
//   fresh: nothing else happens in the process.
//   busy:  50 other modules are compiled and kept first, some one-character
//          strings are interned, and every constant of each dumped code object
//          gets an extra reference: CPython then flags (and orders) differently.
constexpr const char* kCorpusScript = R"PY(
import glob, marshal, os, sys

out_dir, state = sys.argv[1], sys.argv[2]

TRICKY = {
    "frozenset_mixed": "def f(x):\n    return x in {1, 'a', (2, 3), 2.5, -0.0, 0.0}\n",
    "frozenset_strs": "def f(x):\n    return x in {'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'}\n",
    "frozenset_tuples": "def f(x):\n    return x in {(1, 'a'), (2, 'b'), None, ..., b'x', 3j, 10**30, -1}\n",
    "one_char": "a = 'a'\nb = ('a', 'b', 'x', '_', '\\xe9', '\\u20ac', '')\ndef f():\n    return 'a' + 'x' + '\\xe9'\n",
    "big_ints": "x = 10**30\ny = -2**31\nz = 2**31\nw = -2**31 - 1\nv = 2**63\nu = -(10**100)\nt = (2**31 - 1, -2**31 + 1, 2**30, -2**30, 2**45)\n",
    "floats": "a = 0.0\nb = -0.0\nc = 1.0\nd = 1\ne = True\nf = (0.0, -0.0, 1, 1.0, True, 1e308 * 10, -1e308 * 10, 0.1, 1e-320)\n",
    "complex": "c = 1+2j\nd = -0.0j\ne = (1j, 2.5j, -1j, 0j)\nf = -(0.0+0.0j)\n",
    "nested": ("def outer(a, b=2, *args, c, d=4, **kw):\n    x = 1\n    def inner(y):\n        nonlocal x\n"
               "        x += y\n        return lambda z: x + y + z\n    return inner, [lambda: i for i in range(3)], (lambda q: q * 2)\n"
               "class C:\n    def m(self):\n        return super().m()\n    @staticmethod\n    def s():\n        yield from range(3)\n"
               "async def co(x, y, z):\n    async with x:\n        await y\n    return [i async for i in z]\n"
               "f = (lambda: 0, lambda: 0)\n"),
    "bytes": "b = b'\\x00\\xff'\nc = b''\nd = (b'a', b'a', 'a', b'abc', 'abc')\n",
    "unicode": ("s = 'h\\xe9llo w\\xf6rld'\nt = '\\u65e5\\u672c\\u8a9e'\nu = '\\U0001F600'\nv = '\\udcff'\n"
                "w = 'a' * 300\nx = '\\xe9' * 300\ny = 'name_like_identifier'\n"),
    "exceptions": "try:\n    import foo\nexcept ImportError as e:\n    pass\nfinally:\n    x = 1\nwith open('f') as g:\n    pass\n",
    "empty": "",
    "docstring": "'''Module doc.'''\ndef f():\n    '''Function doc.'''\n    return f.__doc__\n",
}
FILENAMES = {
    "unicode": "/tmp/\u00fcn\u00efcode/\u00e9.py",
    "empty": "/tmp/undecodable-\udcff.py",
}

lib = os.path.dirname(os.__file__)
paths = sorted(glob.glob(os.path.join(lib, "*.py")))
step = max(1, len(paths) // 30)
chosen = paths[::step][:30]
others = [p for p in paths if p not in chosen][:50]

def read(path):
    with open(path, "rb") as f:
        return f.read()

keep = []
extra = []
if state == "busy":
    for p in others:
        try:
            keep.append(compile(read(p), p, "exec", dont_inherit=True))
        except SyntaxError:
            pass
    for ch in "abcdefxyz_0123456789\xe9":
        keep.append(sys.intern(ch))
    # Load the chosen modules' code as an import would (marshal interns what
    # CPython flagged): on 3.13 this changes how their qualnames are written.
    for p in chosen:
        try:
            keep.append(marshal.loads(marshal.dumps(compile(read(p), p, "exec", dont_inherit=True))))
        except SyntaxError:
            pass

def hold_constants(code):
    for c in code.co_consts:
        extra.append(c)
        if hasattr(c, "co_consts"):
            hold_constants(c)

sources = [(name, src.encode("utf-8"), FILENAMES.get(name, "/virtual/%s.py" % name))
           for name, src in sorted(TRICKY.items())]
sources += [("stdlib_" + os.path.basename(p)[:-3], read(p), p) for p in chosen]
for name, source, filename in sources:
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError:
        continue
    if state == "busy":
        hold_constants(code)
        keep.append(code)
    with open(os.path.join(out_dir, name + ".bin"), "wb") as f:
        f.write(marshal.dumps(code))
    with open(os.path.join(out_dir, name + ".fn"), "wb") as f:
        f.write(filename.encode("utf-8", "surrogatepass"))
    print(name)
)PY";

struct Interpreter {
  std::string path;
  int minor = 0;
  CodeLayout layout = CodeLayout::Py311;
  std::string label;
};

Interpreter describe(const TestInterpreter& found) {
  return Interpreter{found.path, found.minor, layout_of(found), found.label()};
}

// The corpus of one interpreter in one process state.
struct Corpus {
  std::unique_ptr<TempDir> dir = std::make_unique<TempDir>();
  std::vector<std::string> names;
  std::string bin(const std::string& name) const { return read_file(dir->path() / (name + ".bin")); }
};

Corpus make_corpus(const Interpreter& interpreter, const std::string& state, const std::string& hash_seed) {
  Corpus corpus;
  const std::string out = run_and_capture({"env", "PYTHONHASHSEED=" + hash_seed, interpreter.path, "-S", "-c",
                                           kCorpusScript, corpus.dir->path().string(), state});
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) corpus.names.push_back(line);
  }
  return corpus;
}

// One interpreter with its corpora.
struct Subject {
  Interpreter interpreter;
  Corpus fresh;       // PYTHONHASHSEED=0, nothing else in the process
  Corpus busy;        // PYTHONHASHSEED=0, other work and references first
  Corpus other_seed;  // PYTHONHASHSEED=1, fresh
};

Subject make_subject(const TestInterpreter& python) {
  Subject subject;
  subject.interpreter = describe(python);
  subject.fresh = make_corpus(subject.interpreter, "fresh", "0");
  subject.busy = make_corpus(subject.interpreter, "busy", "0");
  subject.other_seed = make_corpus(subject.interpreter, "fresh", "1");
  return subject;
}

// The checks of one subject. They run in one test, so that ctest (one process
// per test) makes the corpora once.

void corpora_are_complete(const Subject& subject) {
  EXPECT_GE(subject.fresh.names.size(), 30u);
  EXPECT_EQ(subject.fresh.names, subject.busy.names);
  EXPECT_EQ(subject.fresh.names, subject.other_seed.names);
}

void canonical_bytes_load_equal_to_the_original(const Subject& subject) {
  const Interpreter& interpreter = subject.interpreter;
  const Corpus& corpus = subject.fresh;
  for (const auto& name : corpus.names) {
    write_file(corpus.dir->path() / (name + ".canon"), canonicalize(corpus.bin(name), interpreter.layout));
  }
  const std::set<std::string> ok = compare_loaded(interpreter.path, corpus.dir->path());
  for (const auto& name : corpus.names) EXPECT_TRUE(ok.count(name)) << name << " was not verified";
}

void canonicalize_is_idempotent_and_changes_something(const Subject& subject) {
  const Interpreter& interpreter = subject.interpreter;
  int changed = 0;
  for (const auto& name : subject.busy.names) {
    const std::string raw = subject.busy.bin(name);
    const std::string once = canonicalize(raw, interpreter.layout);
    EXPECT_EQ(canonicalize(once, interpreter.layout), once) << name;
    changed += once != raw;
  }
  EXPECT_GT(changed, 0) << "CPython's bytes were all canonical already: the test proves nothing";
}

void code_filename_is_the_compile_filename(const Subject& subject) {
  const Interpreter& interpreter = subject.interpreter;
  const Corpus& corpus = subject.fresh;
  for (const auto& name : corpus.names) {
    const std::string expected = read_file(corpus.dir->path() / (name + ".fn"));
    EXPECT_EQ(code_filename(corpus.bin(name), interpreter.layout), expected) << name;
  }
  // The other layouts do not read a code object of this one.
  for (CodeLayout other : {CodeLayout::Py38, CodeLayout::Py311, CodeLayout::PyPy311}) {
    if (other != interpreter.layout) {
      EXPECT_THROW(canonicalize(corpus.bin("nested"), other), MarshalError);
    }
  }
}

// The inspection walk decides canonical form exactly as canonicalize() does,
// on CPython's own bytes (fresh and busy processes) and on canonical bytes.
void inspection_decides_canonical_form_like_canonicalize(const Subject& subject) {
  const Interpreter& interpreter = subject.interpreter;
  int not_canonical = 0;
  for (const Corpus* corpus : {&subject.fresh, &subject.busy}) {
    for (const auto& name : corpus->names) {
      const std::string raw = corpus->bin(name);
      const std::string canonical = canonicalize(raw, interpreter.layout);
      const BodyInspection of_raw = inspect_body(raw, interpreter.layout);
      const BodyInspection of_canonical = inspect_body(canonical, interpreter.layout);
      EXPECT_EQ(of_raw.canonical, raw == canonical) << name;
      EXPECT_TRUE(of_canonical.canonical) << name;
      EXPECT_EQ(of_raw.code_filename, of_canonical.code_filename) << name;
      not_canonical += of_raw.canonical ? 0 : 1;
    }
  }
  EXPECT_GT(not_canonical, 0) << "CPython's own output should include non-canonical streams";
}

void process_state_changes_cpythons_bytes_but_not_the_canonical_ones(const Subject& subject) {
  const Interpreter& interpreter = subject.interpreter;
  int busy_differs = 0;
  int seed_differs = 0;
  for (const auto& name : subject.fresh.names) {
    const std::string fresh = subject.fresh.bin(name);
    const std::string busy = subject.busy.bin(name);
    const std::string seeded = subject.other_seed.bin(name);
    busy_differs += fresh != busy;
    seed_differs += fresh != seeded;
    const std::string canonical = canonicalize(fresh, interpreter.layout);
    EXPECT_EQ(canonicalize(busy, interpreter.layout), canonical) << name << " (busy process)";
    EXPECT_EQ(canonicalize(seeded, interpreter.layout), canonical) << name << " (PYTHONHASHSEED=1)";
  }
  EXPECT_GT(busy_differs, 0) << "the busy process wrote the same bytes: the test proves nothing";
  if (interpreter.minor <= 10) {
    // Frozenset order follows the hash seed before 3.11.
    EXPECT_NE(subject.fresh.bin("frozenset_strs"), subject.other_seed.bin("frozenset_strs"));
    EXPECT_GT(seed_differs, 0);
  }
}

TEST(MarshalInterpreters, OwnOutputOfEveryCPython) {
  const auto pythons = installed_cpython_interpreters();
  EXPECT_GE(pythons.size(), 3u);
  for (const auto& python : pythons) {
    SCOPED_TRACE(python.label());
    const Subject subject = make_subject(python);
    {
      SCOPED_TRACE("corpora are complete");
      corpora_are_complete(subject);
    }
    {
      SCOPED_TRACE("canonical bytes load equal to the original");
      canonical_bytes_load_equal_to_the_original(subject);
    }
    {
      SCOPED_TRACE("canonicalize is idempotent and changes something");
      canonicalize_is_idempotent_and_changes_something(subject);
    }
    {
      SCOPED_TRACE("code_filename is the compile filename");
      code_filename_is_the_compile_filename(subject);
    }
    {
      SCOPED_TRACE("the inspection walk decides canonical form like canonicalize");
      inspection_decides_canonical_form_like_canonicalize(subject);
    }
    {
      SCOPED_TRACE("process state changes CPython's bytes but not the canonical ones");
      process_state_changes_cpythons_bytes_but_not_the_canonical_ones(subject);
    }
  }
}

// Hand-built streams that CPython's writer would not produce (text floats,
// 'I', Latin-1 'z' payloads, references in every position, dicts ended by a NULL
// value...) load in CPython to the same object as their canonical form.
TEST(MarshalInterpreters, HandBuiltStreamsLoadEqualToTheirCanonicalForm) {
  const std::vector<std::pair<std::string, std::string>> streams = {
      {"refs_preorder", Stream()
                            .small_tuple(4)
                            .small_tuple(2, kRef)
                            .short_ascii("abc", false, kRef)
                            .ref(1)
                            .short_ascii("xyz", false, kRef)
                            .ref(0)
                            .ref(2)},
      {"flags_everywhere", Stream()
                               .small_tuple(5, kRef)
                               .short_ascii("abc", true, kRef)
                               .int32(1, kRef)
                               .binary_float(1.0, kRef)
                               .ref(1)
                               .ref(2)},
      {"numbers", Stream()
                      .small_tuple(9)
                      .int64(1LL << 40)
                      .int64(-5)
                      .long_digits(1, {7})
                      .long_digits(-3, {1, 0, 2})
                      .text_float("-0")
                      .text_float("1e400")
                      .type('x')
                      .byte(3)
                      .raw("1.5")
                      .byte(2)
                      .raw("-0")
                      .binary_float(-0.0)
                      .binary_float(0.0)},
      {"strings", Stream()
                      .small_tuple(7)
                      .short_ascii("caf\xe9")
                      .unicode("caf\xc3\xa9")
                      .short_ascii("a", true)
                      .short_ascii("a")
                      .unicode("ab", true)
                      .ascii(std::string(300, 'x'))
                      .unicode("\xed\xb3\xbf")},
      {"containers", Stream()
                         .small_tuple(5)
                         .list(2, kRef)
                         .none()
                         .type('T')
                         .ref(0)
                         .dict()
                         .short_ascii("k")
                         .int32(1)
                         .short_ascii("dropped")
                         .null()
                         .set(3)
                         .int32(3)
                         .int32(1)
                         .int32(2)
                         .frozenset(4)
                         .short_ascii("zz")
                         .small_tuple(1)
                         .int32(1)
                         .binary_float(2.5)
                         .bytes_object("b")},
  };
  for (const auto& python : installed_cpython_interpreters()) {
    const Interpreter interpreter = describe(python);
    SCOPED_TRACE(interpreter.label);
    TempDir dir;
    for (const auto& [name, bytes] : streams) {
      write_file(dir.path() / (name + ".bin"), bytes);
      write_file(dir.path() / (name + ".canon"), canonicalize(bytes, interpreter.layout));
    }
    EXPECT_EQ(compare_loaded(interpreter.path, dir.path()).size(), streams.size());
  }
}

}  // namespace
}  // namespace pycemit::marshal::testing
