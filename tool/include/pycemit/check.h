// `pycemit check`: are the pycs of these sources present, up to date for this
// interpreter, mode and levels, and canonical? And are there orphaned pycs?
// Nothing is written and no interpreter runs beyond learning its facts.
#pragma once

#include <string>
#include <vector>

#include "pycemit/discover.h"
#include "pycemit/interpreter.h"
#include "pycemit/plan.h"
#include "pycemit/run_options.h"

namespace pycemit {

struct CheckFinding {
  enum class Kind { Missing, Stale, NotCanonical, Orphaned, Unreadable };
  Kind kind;
  std::string pyc;     // the output path
  std::string source;  // the source path, empty for orphans
  // Why, in a few words (freshness.h's OutputInspection::cause): "no file",
  // "embedded path differs: has 'a.py', expected 'pkg/a.py'", "source hash
  // differs ...", "magic number ...", "invalidation mode ...", "not in
  // canonical form ...", "no source uses it", or the source's read error.
  std::string cause;
};

// "missing", "stale", "not-canonical", "orphaned", "unreadable".
std::string to_string(CheckFinding::Kind kind);

// Checks every output `compile` with `options` would write for `sources`:
// missing (no file), stale (header or embedded path differs from what compile
// would write now), not canonical (marshal body not in canonical form), or
// unreadable (the source cannot be read or planned). Sources are checked on
// every usable core (scan.h). Then lists orphaned pycs below the
// directories among options.paths (orphans.h). Findings come sorted by pyc path.
std::vector<CheckFinding> check_outputs(const std::vector<SourceFile>& sources, const CompileOptions& options,
                                        const Locations& locations, const InterpreterInfo& info);

}  // namespace pycemit
