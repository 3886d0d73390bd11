// `pycemit compile`: the whole pipeline for one run.
//
//   discover -> plan -> (up to date? stop) -> compile -> canonicalise -> write -> record
//
// Sources are planned in sorted order and streamed to the interpreter pool with a
// bounded window, so memory holds the file list plus a few sources in flight.
// An output whose header and embedded path are already right is not rewritten
// (it keeps its mtime); when every output is current no interpreter starts
// (given cached interpreter facts, see interpreter_cache.h).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "pycemit/naming.h"
#include "pycemit/plan.h"
#include "pycemit/pyc_header.h"
#include "pycemit/reporter.h"

namespace pycemit {

class InterpreterPool;

// Exit statuses of every pycemit command.
enum ExitStatus : int {
  kExitOk = 0,
  kExitFailures = 1,     // some files could not be compiled, read or written (or check found problems)
  kExitUsage = 2,        // bad options or arguments
  kExitInterpreter = 3,  // the interpreter is missing, not CPython 3.8+, or failed its handshake
  kExitInternal = 4,     // a bug or an unexpected system error
};

// What to do with a source that does not compile (a py2 file vendored in a package).
enum class OnError {
  Fail,  // error, exit status 1
  Warn,  // warning, exit status 0
  Skip,  // one "skipped" line (unless -q), exit status 0
};

struct CompileOptions {
  std::vector<std::string> paths;     // files, directories, @lists
  std::vector<std::string> excludes;  // globs (discover.h)
  std::string python = "python3";     // the target interpreter: a path or a name on $PATH
  int jobs = 0;                        // interpreter processes; 0 = the number of usable cores
  std::chrono::milliseconds timeout{60000};  // per file, and per interpreter handshake
  InvalidationMode mode = InvalidationMode::CheckedHash;
  std::vector<int> levels{0};          // optimization levels, each 0..2, no repeats
  Layout layout = Layout::Pycache;
  LocationOptions locations;
  bool force = false;                  // rewrite outputs even when current
  bool fail_fast = false;              // stop at the first failure
  OnError on_error = OnError::Fail;
  bool hardlink_dupes = false;         // hardlink levels whose bytes are identical
  bool clamp_source_mtime = false;     // timestamp mode: clamp source mtimes to SOURCE_DATE_EPOCH
  std::optional<std::string> manifest; // JSON manifest of every output
  std::optional<std::string> record;   // wheel RECORD file to add the pycs to
  std::optional<std::string> stats;    // JSON file for the run's counts, time and peak memory
  bool stat_cache = true;             // trust unchanged file identities (stat_cache.h)
  // Build systems that name outputs before the build (Bazel):
  std::optional<std::string> expect_cache_tag;  // refuse an interpreter with another cache tag
  bool placeholder_for_skipped = false;  // an empty file at each missing output of a source
                                         // left uncompiled by --on-error warn/skip
};

// Counts for the summary line, tests and the benchmark.
struct CompileStats {
  std::size_t sources = 0;
  std::size_t written = 0;     // outputs written (or hardlinked)
  std::size_t unchanged = 0;   // outputs already current
  std::size_t failed = 0;      // sources with an error (compile, read, write)
  std::size_t skipped = 0;     // sources not compiled under --on-error warn/skip
  int interpreters_started = 0;
  double seconds = 0;          // wall-clock time of the run
};

// Writes `stats` as JSON to `path`, with the peak resident set size of this
// process and of its largest reaped child (an interpreter), in KiB (getrusage).
// Throws FileError.
void write_stats(const std::string& path, const CompileStats& stats);

// The number of cores this process may run on (sched_getaffinity), at least 1.
int usable_cores();

// Checks options that do not need the file system: levels 0..2 without repeats,
// one level for the sourceless layout, jobs >= 0, a positive timeout,
// --clamp-source-mtime only in timestamp mode with SOURCE_DATE_EPOCH set.
// Throws PlanError naming the option (exit status 2).
void validate_options(const CompileOptions& options);

// Runs the pipeline with an interpreter pool of its own (options.python, options.jobs,
// options.timeout). Returns the exit status; every problem is reported through
// `reporter`. `stats`, if given, receives the counts. Throws PlanError (bad
// options), InterpreterError (bad interpreter), FileError (manifest, RECORD).
int run_compile(const CompileOptions& options, Reporter& reporter, CompileStats* stats = nullptr);

// The same with `pool`, which outlives the run (the Bazel persistent worker keeps
// one pool per interpreter); options.python, jobs and timeout are then unused.
int run_compile(const CompileOptions& options, InterpreterPool& pool, Reporter& reporter, CompileStats* stats = nullptr);

}  // namespace pycemit
