// The inspection walk: what the up-to-date check needs to know about a pyc
// body (which file it says it was compiled from, and whether it is already in
// canonical form) from one pass that builds nothing.
#pragma once

#include <string>
#include <string_view>

#include "pycemit/marshal.h"

namespace pycemit::marshal::detail {

struct Inspection {
  std::string code_filename;  // the top-level code object's co_filename, UTF-8
  // Whether canonicalize(data) == data, when the walk could decide it alone;
  // false in `decided` when the stream holds sets, lists or dicts (their
  // canonical order and identity need the full tree: rare in pycs). A
  // frozendict is decided by the walk: its order is its own, like a tuple's.
  bool canonical = false;
  bool decided = false;
};

// Walks `data`, checking its structure as parse() does (known type codes,
// lengths and counts within the input, references to complete objects, nesting
// up to kMaxDepth, the code layout, nothing after the object) while deciding
// canonical form by the writer's rules: every object in its canonical encoding,
// no equal immutable value written in full twice (64-bit value hashes; a
// collision can only make a canonical stream look non-canonical), FLAG_REF on
// exactly the objects referenced later, no FLAG_REF on singletons. Payloads are
// checked only where the canonical encoding depends on them (UTF-8 of 'u',
// ASCII of 'a'/'z', long digits). Throws MarshalError on a broken structure or
// when the top level is not a code object.
Inspection inspect(std::string_view data, CodeLayout layout);

}  // namespace pycemit::marshal::detail
