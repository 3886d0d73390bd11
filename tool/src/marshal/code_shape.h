// The field list of a marshalled code object ('c') per CodeLayout, as w_object
// writes it in Python/marshal.c of CPython 3.8-3.10 and 3.11-3.14: some int32
// fields, 8 objects, co_firstlineno (int32), then 1 or 2 more objects.
#pragma once

#include <cstdint>

#include "pycemit/marshal.h"

namespace pycemit::marshal::detail {

struct CodeShape {
  std::uint32_t leading_ints;         // 6 (with co_nlocals) or 5
  std::uint32_t objects_before_line;  // code ... name (3.8) / qualname (3.11): 8
  std::uint32_t objects;              // all object fields: 9 or 10
  std::uint32_t filename_index;       // co_filename among the object fields
};

inline constexpr CodeShape code_shape(CodeLayout layout) {
  // 3.8: code, consts, names, varnames, freevars, cellvars, filename, name |
  //      firstlineno | lnotab (3.10: linetable).
  // 3.11: code, consts, names, localsplusnames, localspluskinds, filename, name,
  //      qualname | firstlineno | linetable, exceptiontable.
  return layout == CodeLayout::Py38 ? CodeShape{6, 8, 9, 6} : CodeShape{5, 8, 10, 5};
}

}  // namespace pycemit::marshal::detail
