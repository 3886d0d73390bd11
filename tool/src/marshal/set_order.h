// The canonical order of set and frozenset elements.
#pragma once

#include <cstdint>

#include "tree.h"

namespace pycemit::marshal::detail {

// Sort keys (the elements' standalone bytes) may take at most
// kSortKeyBudgetBase + kSortKeyBudgetFactor * (the summed size of the distinct
// values reachable from the root) bytes in all: a pure function of the loaded
// object, far above what a real pyc needs, and a bound on the quadratic cost a
// hostile stream could otherwise cause (elements that each reference one large
// shared object).
inline constexpr std::uint64_t kSortKeyBudgetBase = 1u << 20;
inline constexpr std::uint64_t kSortKeyBudgetFactor = 16;

// Reorders the elements of every set and frozenset reachable from the root by
// the bytes each element has when written canonically on its own (Writer::write
// with a fresh reference table), compared as unsigned bytes, shorter first on a
// common prefix. Only distinct mutable elements (which CPython cannot load in a
// set anyway) can tie; they keep their order of completion. Inner sets are
// ordered before the sets that hold them (node indices are in completion order). This is what CPython
// 3.11+ meant to do (it sorts by marshalled bytes, but those include the
// refcount-dependent FLAG_REF), and replaces hash order on 3.8-3.10.
// Throws MarshalError when the keys exceed the budget above.
void order_set_elements(Tree& tree);

}  // namespace pycemit::marshal::detail
