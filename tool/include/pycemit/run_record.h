// The record stage: what a compile run tells and keeps. Every output placed
// and every source that failed is reported (reporter.h), counted
// (CompileStats), and, when asked, listed for the JSON manifest and the wheel
// RECORD (manifest.h), which are written at the end of the run with the
// summary line.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pycemit/manifest.h"
#include "pycemit/output_writer.h"
#include "pycemit/plan.h"
#include "pycemit/reporter.h"
#include "pycemit/run_options.h"

namespace pycemit {

// Counts for the summary line, tests and the benchmark.
struct CompileStats {
  std::size_t sources = 0;
  std::size_t written = 0;    // outputs written (or hardlinked)
  std::size_t unchanged = 0;  // outputs already current
  std::size_t failed = 0;     // sources with an error (compile, read, write)
  std::size_t skipped = 0;    // sources not compiled under --on-error warn/skip
  std::size_t verified = 0;   // outputs the interpreter loaded back and compared (--verify)
  int interpreters_started = 0;
  double seconds = 0;  // wall-clock time of the run
  // The compile cache (compile_cache.h), counted per output:
  std::size_t cache_lookups = 0;  // outputs looked up
  std::size_t cache_hits = 0;     // served by the local cache
  std::size_t remote_hits = 0;    // served by the remote cache
  std::size_t cache_misses = 0;   // found in neither, so compiled
  std::size_t cache_stores = 0;   // entries stored in the local cache
  std::size_t remote_stores = 0;  // entries stored in the remote cache
  std::size_t cache_dropped = 0;  // bad entries found (deleted locally; a bad remote one stops the remote)
  bool remote_disabled = false;   // a failure stopped the remote for the rest of the run
};

// Writes `stats` as JSON to `path`, with the peak resident set size of this
// process and of its largest reaped child (an interpreter), in KiB (getrusage).
// Throws FileError.
void write_stats(const std::string& path, const CompileStats& stats);

class RunRecord {
 public:
  // `options`: manifest, record and mode are read from it; `cache_tag`: the
  // interpreter's, for the manifest. Both outlive the record.
  RunRecord(const CompileOptions& options, const std::string& cache_tag, Reporter& reporter);

  // One output of `plan`, and what the run did to it. `bytes`: its content,
  // or nullptr to read it from disk when a manifest or RECORD needs it.
  void output(const PlannedSource& plan, const PlannedOutput& out, Placement placement, const std::string* bytes);

  // A source that failed, with its one-line diagnostic, under `policy`:
  // Fail is an error (exit status 1), Warn a "warning: " line and Skip a
  // "skipped: " line, both counted as skipped. Every failed source is listed
  // in the manifest's "skipped".
  void failure(const std::string& source, const std::string& message, OnError policy);

  // A problem found before any source (discover.h's errors): an error.
  void error(const std::string& message);

  // An empty placeholder file written at `path` (--placeholder-for-skipped).
  void placeholder(const std::string& path);

  // Writes the manifest and RECORD (if asked) and prints the summary line.
  // Throws FileError.
  void finish();

  CompileStats& stats() { return stats_; }

 private:
  const CompileOptions& options_;
  std::string cache_tag_;  // "" when the interpreter has none (sourceless pycs only)
  Reporter& reporter_;
  CompileStats stats_;
  std::vector<OutputRecord> records_;
  std::vector<SkippedRecord> skipped_;
};

}  // namespace pycemit
