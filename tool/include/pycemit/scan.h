// The scan stage of `compile` and `check`: for each source, its outputs are
// planned, its bytes read and hashed, and every existing output inspected
// (freshness.h), all without an interpreter. Sources are independent, so a
// batch is scanned on several threads at once; nothing here writes a pyc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pycemit/discover.h"
#include "pycemit/freshness.h"
#include "pycemit/interpreter.h"
#include "pycemit/plan.h"
#include "pycemit/run_options.h"
#include "pycemit/stat_cache.h"

namespace pycemit {

// What scanning needs besides the source (all owned by the caller). The fields
// a run's options decide are filled from them by the constructor.
struct ScanSettings {
  ScanSettings() = default;
  ScanSettings(const CompileOptions& options, const Locations& locations, const InterpreterInfo& interpreter);

  const Locations* locations = nullptr;
  Layout layout = Layout::Pycache;
  std::vector<int> levels{0};
  const InterpreterInfo* interpreter = nullptr;
  std::string cache_tag;  // cache_tag_for(*interpreter, layout)
  InvalidationMode mode = InvalidationMode::CheckedHash;
  // Timestamp mode: first set the source's mtime to this (seconds since the
  // epoch, SOURCE_DATE_EPOCH) when it is newer (--clamp-source-mtime).
  std::optional<std::int64_t> clamp_mtime_to;
  // When given, a source whose files are unchanged since the cache recorded
  // them current is not read at all (stat_cache.h).
  const StatCache* cache = nullptr;
};

struct SourceScan {
  PlannedSource plan;
  std::vector<OutputState> states;   // per planned output
  std::vector<std::string> causes;   // per planned output: why it is not current (freshness.h), "" if it is
  std::optional<std::string> error;  // one line: the source cannot be planned, read or clamped
  bool from_cache = false;           // every output current by the stat cache, nothing read
  FileIdentity source_identity;      // of the source as read (when not from_cache)
};

// Scans one source. Thread-safe.
SourceScan scan_source(const SourceFile& source, const ScanSettings& settings);

// Scans `sources` on up to `threads` threads; results in the same order.
std::vector<SourceScan> scan_sources(const std::vector<SourceFile>& sources, const ScanSettings& settings, int threads);

}  // namespace pycemit
