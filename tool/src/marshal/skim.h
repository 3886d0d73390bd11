// A walk over one marshalled object that builds nothing: for questions about a
// pyc that do not need its objects (which file does it say it was compiled
// from?), at a small fraction of the cost of parse() (no tree, no hash-consing).
#pragma once

#include <string>
#include <string_view>

#include "pycemit/marshal.h"

namespace pycemit::marshal::detail {

// The top-level code object's co_filename, as UTF-8 ('a'/'z' payloads read as
// Latin-1, like the reader). The structure is checked as parse() checks it:
// known type codes, every length and count within the input, reference indices
// to complete objects, nesting up to kMaxDepth, the code layout, nothing after
// the object. Payloads are skipped, not validated (UTF-8, long digits): a full
// parse() does that. Throws MarshalError.
std::string skim_code_filename(std::string_view data, CodeLayout layout);

}  // namespace pycemit::marshal::detail
