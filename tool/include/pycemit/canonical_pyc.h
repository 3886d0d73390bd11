// Canonical form of a whole pyc file (header kept, body through marshal.h), for
// `pycemit canonicalize` and `pycemit check`.
#pragma once

#include <string>
#include <string_view>

namespace pycemit {

// The canonical bytes of the pyc `data`: the 16-byte header unchanged, then
// marshal::canonicalize of the body with the code layout of the format its
// magic number names (format_for_magic_number: a release, or for another
// CPython magic number the version whose range holds it). Throws std::runtime_error (or marshal::MarshalError, a
// subclass) naming the problem: truncated header, unknown magic number,
// unreadable marshal data.
std::string canonical_pyc(std::string_view data);

}  // namespace pycemit
