// Finding pycs that no source will ever use, for `pycemit check` and `prune`.
//
// An orphaned pyc is one the import system would look up for a source that no
// longer exists: "<dir>/__pycache__/<stem>.<tag>[.opt-N].pyc" without
// "<dir>/<stem>.py" (or .pyw), or the same name in a pycache prefix tree without
// its source at the mirrored place. Any cache tag counts (a pyc of another
// interpreter is orphaned too once its source is gone). Legacy sourceless pycs
// ("<dir>/<stem>.pyc") are never orphans: having no source is their purpose.
#pragma once

#include <string>
#include <vector>

#include "pycemit/naming.h"
#include "pycemit/plan.h"

namespace pycemit {

// Orphaned pycs below each directory of `source_dirs` (paths as found; files
// among them are ignored). For Layout::Pycache the __pycache__ directories are
// scanned; for Layout::Prefix the prefix tree that mirrors each directory (as
// planned with `locations`); Layout::Sourceless has none. Sorted, no duplicates.
std::vector<std::string> find_orphaned_pycs(const std::vector<std::string>& source_dirs, Layout layout,
                                            const Locations& locations);

// Legacy "*.pyc" files outside __pycache__ below `dirs` (sourceless pycs, or
// leftovers of Python 2 builds). Sorted.
std::vector<std::string> find_legacy_pycs(const std::vector<std::string>& dirs);

}  // namespace pycemit
