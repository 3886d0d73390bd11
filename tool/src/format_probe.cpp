#include "pycemit/format_probe.h"

#include <string>
#include <vector>

#include "pycemit/freshness.h"
#include "pycemit/interpreter_pool.h"
#include "pycemit/marshal.h"

namespace pycemit {
namespace {

// A source of the probe corpus, and the first Python 3 minor version whose
// syntax it needs (a gated source that does not compile is skipped: a
// pre-release may not have the feature yet).
struct ProbeSource {
  int since_minor;
  std::string text;
};

// Every construct that gives a code object another field value or puts another
// marshal type code in a pyc, in Python 3.8 syntax.
constexpr std::string_view kBaseSource = R"PROBE("""Module docstring: dropped at optimization level 2."""
import os as _os
from sys import version_info as _v
SMALL = (0, 1, -1, 255, 256, 2**31 - 1, -2**31)
BIG = (2**31, -2**31 - 1, 2**63, -2**64, 12345678901234567890123456789)
FLOATS = (0.0, -0.0, 1.5, 1e308, 5e-324)
COMPLEX = (1j, -2.5 + 0.5j, 0j)
BYTES = (b"", b"\x00\xff bytes")
STRINGS = ("", "a", "identifier_like", "not an identifier", "\xe9t\xe9", "\U0001f600", "\udc80")
NESTED = ((1, (2, (3, ("deep", None, True, False, ...)))), (1, 2), (1, 2))


def positional(a, b=1, /, c=2, *args, d, e=3, **kwargs) -> "annotation":
    """Function docstring: dropped at level 2."""
    assert a, "dropped at level 1"
    x = a in {1, 2, "three", 4.0, (5, 6)}
    if __debug__:
        x = not x
    total = 0
    for i in range(3):
        total += i
    try:
        total /= b
    except ZeroDivisionError as exc:
        total = -1
    finally:
        total += 1
    with open(_os.devnull) as f:
        pass
    return [total, x, args, kwargs, f"{a!r:>10}", d, e, c]


def closures():
    cell = 1

    def inner():
        nonlocal cell
        cell += 1
        return cell

    return inner, lambda y=cell: y


class Klass(object):
    """Class docstring."""
    attr: int = 5

    def method(self):
        return super().__repr__()

    @staticmethod
    def static(*, key=None):
        return key


async def coroutine(it):
    async with it as value:
        async for item in value:
            await item
    return [i async for i in it]


def generator():
    yield 1
    yield from range(2)


COMPREHENSIONS = ([i for i in range(3)], {i: i for i in range(3)}, {i for i in range(3)}, (i for i in range(3)))
if (walrus := len(STRINGS)) > 2:
    SLICED = STRINGS[1:3], STRINGS[::2], STRINGS[1:], STRINGS[:-1], STRINGS[1:2:3]
global_name = None


def uses_global():
    global global_name
    global_name = 1
    del global_name


try:
    raise ValueError("x")
except (ValueError, TypeError):
    pass
)PROBE";

constexpr std::string_view kMatchSource = R"PROBE(def matcher(value):
    match value:
        case [1, *rest]:
            return rest
        case {"key": v, **others}:
            return v, others
        case complex(real=0) | None:
            return 0
        case str() as s if s:
            return s
        case _:
            return None
)PROBE";

constexpr std::string_view kExceptStarSource = R"PROBE(def groups():
    try:
        raise ExceptionGroup("g", [ValueError()])
    except* ValueError:
        pass
)PROBE";

constexpr std::string_view kTypeParamsSource = R"PROBE(def generic[T](x: T) -> T:
    return x


type Alias[K] = dict[K, list[int]]


class Box[T]:
    pass
)PROBE";

constexpr std::string_view kTemplateStringSource = R"PROBE(name = "world"
template = t"hello {name!r:>10}"
)PROBE";

// Marshalled by a Dump request: every type code compile() never emits, and
// shared objects (back-references). Works on every Python 3.8+.
constexpr std::string_view kDataExpression =
    R"PROBE((lambda shared, big: (None, True, False, Ellipsis, StopIteration, 0, -1, 2**31 - 1, -2**31, 2**31, )PROBE"
    R"PROBE(-2**63, 2**64 + 1, -(2**200), 0.0, -0.0, 1.5, float("inf"), float("-inf"), float("nan"), 1j, -2.5+0.5j, )PROBE"
    R"PROBE(b"", b"bytes\x00\xff", "", "a", "identifier_like", "not an identifier", "x" * 300, "\xe9t\xe9", )PROBE"
    R"PROBE("\U0001f600", "\udc80", (), (1,), big, big, shared, shared, frozenset(), frozenset({1, "a", (2, 3)}), )PROBE"
    R"PROBE(frozenset({frozenset({1}), 2.5}), [1, [2, shared]], {}, {"k": [1], 2: "v", (1, 2): None}, set(), )PROBE"
    R"PROBE({1, 2, 3}, __import__("marshal").version >= 5 and slice(1, None, -1), )PROBE"
    R"PROBE(__import__("builtins").__dict__.get("frozendict", dict)({"a": 1, "b": shared}), )PROBE"
    R"PROBE(__import__("builtins").__dict__.get("frozendict", dict)({"a": 1, "b": shared}), )PROBE"
    R"PROBE())(("shared", 7, 7.0), tuple(range(300))))PROBE";

std::vector<ProbeSource> probe_sources() {
  // A tuple constant of 300 items: the 4-byte-count tuple form.
  std::string long_tuple = "LONG_TUPLE = (";
  for (int i = 0; i < 300; ++i) long_tuple += std::to_string(i) + ", ";
  long_tuple += ")\nLONG_STRING = \"" + std::string(300, 'x') + "\"\n";
  return {
      {8, std::string(kBaseSource) + long_tuple}, {10, std::string(kMatchSource)},
      {11, std::string(kExceptStarSource)},       {12, std::string(kTypeParamsSource)},
      {14, std::string(kTemplateStringSource)},
  };
}

// The embedded path of probe source `index`: a directory with an undecodable
// byte, so co_filename carries a lone surrogate (surrogateescape).
std::string probe_path(std::size_t index) { return "pycemit-probe/\xff/probe_" + std::to_string(index) + ".py"; }

struct Probe {
  std::string what;           // "the code object of probe 2 at level 1"
  std::string embedded_path;  // empty for the data object
  std::string marshal;        // as the interpreter wrote it
  std::string canonical;
};

std::string refusal(const InterpreterInfo& info, const std::string& what) {
  return info.executable + " is " + info.display_name() + ", " + info.format_note +
         "; its pyc format failed pycemit's probe: " + what;
}

CompileReply one_reply(InterpreterPool& pool, CompileRequest request) {
  pool.submit(std::move(request));
  return pool.next_reply();
}

}  // namespace

void probe_format(InterpreterPool& pool, InterpreterInfo& info) {
  std::vector<Probe> probes;
  const std::vector<ProbeSource> sources = probe_sources();
  std::uint64_t id = 0;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (info.minor < sources[i].since_minor) continue;
    for (int level = 0; level <= 2; ++level) {
      CompileRequest request;
      request.id = ++id;
      request.optimize = level;
      request.embedded_path = probe_path(i);
      request.source = sources[i].text;
      const CompileReply reply = one_reply(pool, std::move(request));
      const std::string what = "the code object of probe " + std::to_string(i) + " at level " + std::to_string(level);
      if (!reply.code) {
        if (i > 0 && reply.failure.type == "SyntaxError") break;  // a feature this pre-release lacks
        throw InterpreterError(
            refusal(info, what + " was not compiled: " + reply.failure.type + ": " + reply.failure.message));
      }
      probes.push_back({what, probe_path(i), *reply.code, {}});
    }
  }
  CompileRequest dump;
  dump.kind = CompileRequest::Kind::Dump;
  dump.id = ++id;
  dump.source = std::string(kDataExpression);
  const CompileReply data = one_reply(pool, std::move(dump));
  if (!data.code) {
    throw InterpreterError(
        refusal(info, "marshalling the probe data failed: " + data.failure.type + ": " + data.failure.message));
  }
  probes.push_back({"the probe data object", "", *data.code, {}});

  for (Probe& probe : probes) {
    try {
      probe.canonical = marshal::canonicalize(probe.marshal, info.code_layout);
      if (marshal::canonicalize(probe.canonical, info.code_layout) != probe.canonical) {
        throw marshal::MarshalError("its canonical form is not stable", 0);
      }
      if (!probe.embedded_path.empty() &&
          marshal::code_filename(probe.canonical, info.code_layout) != fsdecoded_utf8(probe.embedded_path)) {
        throw marshal::MarshalError("co_filename is not where this code layout expects it", 0);
      }
    } catch (const marshal::MarshalError& e) {
      throw InterpreterError(refusal(info, probe.what + ": " + e.what()));
    }
    CompileRequest verify;
    verify.kind = CompileRequest::Kind::Verify;
    verify.id = ++id;
    verify.source = probe.marshal;
    verify.canonical = probe.canonical;
    const CompileReply reply = one_reply(pool, std::move(verify));
    if (!reply.code) {
      throw InterpreterError(
          refusal(info, probe.what + " loads differently from its canonical form: " + reply.failure.message));
    }
  }
  info.format_probed = true;
}

}  // namespace pycemit
