// The field list of a marshalled code object ('c') per CodeLayout (see
// marshal.h): some int32 fields, the object fields up to the name (and qualname),
// co_firstlineno (int32), then the line table (and exception table).
//   Py38 (CPython 3.8-3.10, w_object in Python/marshal.c; also PyPy 3.9, which
//   writes the same list in pypy/objspace/std/marshal_impl.py):
//     6 int32 | code, consts, names, varnames, freevars, cellvars, filename, name
//     | firstlineno | lnotab (3.10: linetable)
//   Py311 (CPython 3.11-3.15, Python/marshal.c):
//     5 int32 | code, consts, names, localsplusnames, localspluskinds, filename,
//     name, qualname | firstlineno | linetable, exceptiontable
//   PyPy311 (PyPy 3.11, pypy/objspace/std/marshal_impl.py, marshal_pycode):
//     6 int32 | code, consts, names, varnames, freevars, cellvars, filename,
//     name, qualname | firstlineno | linetable, exceptiontable
#pragma once

#include <cstdint>

#include "pycemit/marshal.h"

namespace pycemit::marshal::detail {

struct CodeShape {
  std::uint32_t leading_ints;         // 6 (with co_nlocals) or 5
  std::uint32_t objects_before_line;  // the object fields before co_firstlineno: 8 or 9
  std::uint32_t objects;              // all object fields: 9, 10 or 11
  std::uint32_t filename_index;       // co_filename among the object fields
};

// The reader keeps the int32 fields of an open code object in a fixed array.
inline constexpr std::uint32_t kMaxCodeInts = 7;  // leading ints + co_firstlineno

inline constexpr CodeShape code_shape(CodeLayout layout) {
  switch (layout) {
    case CodeLayout::Py38: return CodeShape{6, 8, 9, 6};
    case CodeLayout::Py311: return CodeShape{5, 8, 10, 5};
    case CodeLayout::PyPy311: return CodeShape{6, 9, 11, 6};
  }
  return CodeShape{5, 8, 10, 5};
}

static_assert(code_shape(CodeLayout::Py38).leading_ints + 1 <= kMaxCodeInts);
static_assert(code_shape(CodeLayout::PyPy311).leading_ints + 1 <= kMaxCodeInts);

}  // namespace pycemit::marshal::detail
