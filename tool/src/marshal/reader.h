// Reading a marshal stream into a Tree (see tree.h).
#pragma once

#include <string_view>

#include "pycemit/marshal.h"
#include "tree.h"

namespace pycemit::marshal::detail {

// The largest input read: offsets, counts and reference indices stay in int32.
inline constexpr std::size_t kMaxInputSize = 0x7fffffff;

// Reads the single object of `data` (marshal versions 4 to 6, code objects in
// `layout`) without recursion, resolving back-references to shared nodes.
// Throws MarshalError, naming what was found and its offset, on: truncated data,
// an unknown type code (including '?'), a bad reference index, a reference to an
// object that is not complete yet (a cycle), a negative length or one longer than
// the rest of the input, invalid UTF-8 in 'u'/'t', an int digit out of range or
// an unnormalized int, an unparsable 'f'/'x' text, a NULL ('0') anywhere but
// where a dict or frozendict key or value is read (there it ends the object, as
// in r_object, which also drops a key whose value is NULL), nesting deeper than
// kMaxDepth, bytes after the object, and input longer than kMaxInputSize.
Tree parse(std::string_view data, CodeLayout layout);

}  // namespace pycemit::marshal::detail
