// The options of one `compile` run (and of `check` and `plan`, which select
// sources and outputs the same way), and the rules that hold between them.
// The command line (tool/src/cli/compile_options.cpp) and the Bazel persistent
// worker fill these; every stage below the command line reads them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pycemit/compile_cache_options.h"
#include "pycemit/naming.h"
#include "pycemit/plan.h"
#include "pycemit/pyc_header.h"

namespace pycemit {

// What to do with a source that does not compile (a Python 2 file vendored in a package).
enum class OnError {
  Fail,  // error, exit status 1
  Warn,  // warning, exit status 0
  Skip,  // one "skipped" line (unless -q), exit status 0
};

struct CompileOptions {
  std::vector<std::string> paths;            // files, directories, @lists
  std::vector<std::string> excludes;         // globs (discover.h)
  std::string python = "python3";            // the target interpreter: a path or a name on $PATH
  int jobs = 0;                              // interpreter processes; 0 = usable_cores()
  std::chrono::milliseconds timeout{60000};  // per file, and per interpreter handshake
  InvalidationMode mode = InvalidationMode::CheckedHash;
  std::vector<int> levels{0};  // optimization levels, each 0..2, no repeats
  Layout layout = Layout::Pycache;
  LocationOptions locations;
  bool force = false;      // rewrite outputs even when current
  bool fail_fast = false;  // stop at the first failure
  OnError on_error = OnError::Fail;
  bool hardlink_dupes = false;          // hardlink levels whose bytes are identical
  bool clamp_source_mtime = false;      // timestamp mode: clamp source mtimes to SOURCE_DATE_EPOCH
  std::optional<std::string> manifest;  // JSON manifest of every output
  std::optional<std::string> record;    // wheel RECORD file to add the pycs to
  std::optional<std::string> stats;     // JSON file for the run's counts, time and peak memory
  bool stat_cache = true;               // trust unchanged file identities (stat_cache.h)
  CompileCacheOptions cache;            // the compile cache (compile_cache.h): none unless set
  // The target interpreter loads back every canonical body written and compares
  // it with the code object it compiled (docs/pyc-format.md, section 10).
  // Unset: on exactly when the interpreter's format is not a known release.
  std::optional<bool> verify;
  // Build systems that name outputs before the build (Bazel):
  std::optional<std::string> expect_cache_tag;  // refuse an interpreter with another cache tag
  bool placeholder_for_skipped = false;         // an empty file at each missing output of a source
                                                // left uncompiled by --on-error warn/skip
};

// Checks options that do not need the file system: levels 0..2 without repeats,
// one level for the sourceless layout, jobs >= 0, a positive timeout,
// --clamp-source-mtime only in timestamp mode with SOURCE_DATE_EPOCH set, at
// least one PATH. Throws PlanError naming the option (exit status 2).
void validate_options(const CompileOptions& options);

// SOURCE_DATE_EPOCH (seconds since the epoch, reproducible-builds.org), or
// nullopt when it is unset, empty, negative or not a whole decimal number.
std::optional<std::int64_t> source_date_epoch();

// The policy that applies to a source that failed: `options.on_error` for a
// source the compiler rejected (SyntaxError...), OnError::Fail for every other
// failure (an unreadable source, an unwritable output, an interpreter that
// died or timed out on it): --on-error only excuses what the source itself says.
OnError on_error_for(const CompileOptions& options, bool rejected_by_compiler);

// The sources `options.paths` select below `locations` (discover_sources with
// options.excludes and the locations' source and staging roots).
Discovery discover_sources(const CompileOptions& options, const Locations& locations);

// The number of cores this process may run on (sched_getaffinity), at least 1.
int usable_cores();

// The number of interpreter processes a run uses: options.jobs, or usable_cores() when it is 0.
int interpreter_processes(const CompileOptions& options);

}  // namespace pycemit
