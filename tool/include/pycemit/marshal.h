// Canonical marshal: read what CPython's or PyPy's marshal.dumps() wrote, write
// it back as a pure function of the object.
//
// Why: CPython's writer sets FLAG_REF from reference counts (Python/marshal.c,
// w_ref), orders set elements by hash seed (3.8-3.10) or by refcount-dependent
// bytes (3.11+), and writes one-character strings interned or not depending on
// process history (cpython gh-129724). PyPy's writer flags objects by identity
// (pypy/objspace/std/marshal_impl.py, write_ref: the first occurrence of every
// str, bytes, long, list, dict, set and frozenset, referenced later or not; PyPy
// 3.11 also tuples and code objects, PyPy 3.9 never) and writes sets in
// iteration order. The canonical form removes all of that:
//   - every repeat of an equal immutable object is a back-reference ('r');
//     FLAG_REF (0x80) is set only on objects that are referenced; reference
//     indices are assigned in write (pre-)order, as marshal.c's reader expects;
//   - "equal" means same type, same variant, same value: int 1, float 1.0 and
//     True differ; 0.0 and -0.0 differ (floats compare by bit pattern); bytes
//     and str differ; mutable containers (list, dict, set) are never merged
//     with other objects; tuples, frozensets, frozendicts and slices holding
//     one are not merged either;
//   - set and frozenset elements are sorted by their canonical bytes; dict and
//     frozendict items keep their order (their iteration order);
//   - a str is written interned ('Z', 'A', 't') exactly when it has at least two
//     characters, all ASCII letters, digits or underscores (CPython's
//     all_name_chars rule: the strings the code object constructor interns
//     itself). CPython's own flag follows process state: one-character strings
//     everywhere (3.8-3.12), and on 3.13 any string equal to one interned
//     earlier in the process (a qualname of an already imported module), so
//     the input's flag is ignored. Loading is equivalent: interning only
//     changes object identity, and names are re-interned by the constructor;
//   - ints are written as 'i' when they fit in int32, else 'l'; strings as
//     'z'/'Z' or 'a'/'A' when ASCII, else 'u'/'t'; tuples as ')' below 256 items.
// Loading the canonical bytes gives an object equal to loading the original, in
// CPython and in PyPy (whose reader, pypy/module/marshal/interp_marshal.py,
// takes FLAG_REF on any type and reserves reference slots in pre-order too).
//
// Formats: marshal versions 4 (CPython 3.8-3.13, PyPy 3.9 and 3.11), 5 (3.14,
// adds ':' slices) and 6 (3.15, adds '}' frozendicts, PEP 814); the code-object
// layouts of CodeLayout.
//
// Frozendicts ('}', marshal version 6): key, value, key, value..., then a NULL
// ('0'), like a dict ('{'); CPython 3.15's reader reserves the frozendict's
// reference slot before reading its items (r_ref_reserve, as for frozensets), so
// reference indices stay in pre-order, and it stops at a NULL key or value, like
// the dict loop. marshal.dumps(frozendict({"a": 1})) on 3.15.2 is
// fd da 01 61 e9 01 00 00 00 30 ('}' | FLAG_REF, 'Z' | FLAG_REF "a", 'i' | FLAG_REF 1,
// NULL). At marshal versions 0 to 5, 3.15's writer refuses a frozendict
// (ValueError "unmarshallable object"; there is no fallback to a dict), and
// CPython 3.14 and older cannot read '}' at all ("bad marshal data (unknown type
// code)"). The canonical form treats a frozendict like a tuple of its items:
// immutable, so an equal frozendict (the same keys and values, of the same
// types and variants, in the same order) is written once and referenced after;
// never when it holds a list, dict or set. A stream that repeats a key (which no
// writer produces; loading keeps the key's first position and last value) keeps
// its items as written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pycemit::marshal {

// The version of the canonical form canonicalize() writes. Raise it whenever
// the writer's output changes for some input: the compile cache's key
// (compile_cache_entry.h) includes it, so entries written by an older writer
// are never served.
constexpr int kCanonicalFormatVersion = 1;

// The field list of a marshalled code object ('c'), which depends on the
// implementation and its Python minor version, not on the marshal version.
//   Py38: CPython 3.8-3.10 (Python/marshal.c, w_object), and PyPy 3.9 (7.3.x,
//         pypy/objspace/std/marshal_impl.py, marshal_pycode; with PyPy's own
//         bytecode in co_code): 6 int32 (argcount, posonlyargcount,
//         kwonlyargcount, nlocals, stacksize, flags), code, consts, names,
//         varnames, freevars, cellvars, filename, name, int32 firstlineno,
//         lnotab (CPython 3.10: linetable).
//   Py311: CPython 3.11-3.15 (Python/marshal.c; 3.15 keeps 3.11's list): 5 int32
//         (argcount, posonlyargcount, kwonlyargcount, stacksize, flags), code,
//         consts, names, localsplusnames, localspluskinds, filename, name,
//         qualname, int32 firstlineno, linetable, exceptiontable.
//   PyPy311: PyPy 3.11 (8.0.x, pypy/objspace/std/marshal_impl.py): 6 int32
//         (argcount, posonlyargcount, kwonlyargcount, nlocals, stacksize,
//         flags), code, consts, names, varnames, freevars, cellvars, filename,
//         name, qualname, int32 firstlineno, linetable, exceptiontable. That is
//         Py38's list with qualname after name and CPython 3.11's two tables at
//         the end (no localsplus fields).
// PyPy 3.10 (7.3.12-7.3.17) was not checked and has no layout here.
enum class CodeLayout { Py38, Py311, PyPy311 };

// The code layout for CPython 3.<minor> (not PyPy: see CodeLayout); throws
// std::invalid_argument outside 8..15.
CodeLayout code_layout_for_minor(int minor);

// A stream that cannot be read: truncated, an unknown type code, a bad reference,
// an invalid length or UTF-8, nesting deeper than CPython's limit (2000), trailing
// bytes. what() names what was found and where ("unknown type code 0x3f at
// offset 123").
class MarshalError : public std::runtime_error {
 public:
  MarshalError(const std::string& message, std::size_t offset);
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

// Returns the canonical serialization of the single object in `data` (a pyc body,
// i.e. the bytes after the 16-byte header). Throws MarshalError; never returns
// `data` unchanged when it cannot read it. Idempotent: canonicalize(canonicalize(x))
// == canonicalize(x).
std::string canonicalize(std::string_view data, CodeLayout layout);

// What the up-to-date check needs to know about a pyc body, from one pass.
struct BodyInspection {
  // The top-level code object's co_filename: UTF-8, with the lone surrogates
  // of undecodable file-name bytes encoded as marshal writes them ("surrogatepass").
  std::string code_filename;
  // Exactly canonicalize(data) == data.
  bool canonical = false;
};

// Inspects `data` in one walk that builds nothing: the structure is checked as
// canonicalize() checks it, and canonical form is decided by the writer's
// rules (every encoding canonical, no equal immutable value written in full
// twice, FLAG_REF on exactly the objects referenced later). Streams holding
// sets, lists or dicts (rare in pycs) are decided by a full canonicalize().
// Throws MarshalError when the structure is broken or the top level is not a
// code object.
BodyInspection inspect_body(std::string_view data, CodeLayout layout);

// inspect_body(data, layout).code_filename.
std::string code_filename(std::string_view data, CodeLayout layout);

}  // namespace pycemit::marshal
