#include "pycemit/run_options.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>

namespace pycemit {

std::optional<std::int64_t> source_date_epoch() {
  const char* text = std::getenv("SOURCE_DATE_EPOCH");
  if (!text || !*text) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0' || v < 0) return std::nullopt;
  return v;
}

void validate_options(const CompileOptions& o) {
  if (o.levels.empty()) throw PlanError("no optimization level given");
  std::set<int> seen;
  for (int level : o.levels) {
    if (level < 0 || level > 2) throw PlanError("--optimize " + std::to_string(level) + ": levels are 0, 1 and 2");
    if (!seen.insert(level).second) throw PlanError("--optimize " + std::to_string(level) + " given twice");
  }
  if (o.layout == Layout::Sourceless && o.levels.size() != 1) {
    throw PlanError("--layout sourceless takes one optimization level (its file name carries none)");
  }
  if (o.jobs < 0) throw PlanError("--jobs must be 0 (all cores) or more");
  if (o.timeout.count() <= 0) throw PlanError("--timeout must be positive");
  if (o.clamp_source_mtime) {
    if (o.mode != InvalidationMode::Timestamp) {
      throw PlanError("--clamp-source-mtime applies to --invalidation-mode timestamp");
    }
    if (!source_date_epoch())
      throw PlanError("--clamp-source-mtime needs SOURCE_DATE_EPOCH set to a number of seconds");
  }
  if (o.paths.empty()) throw PlanError("no PATH given");
}

OnError on_error_for(const CompileOptions& options, bool rejected_by_compiler) {
  return rejected_by_compiler ? options.on_error : OnError::Fail;
}

Discovery discover_sources(const CompileOptions& options, const Locations& locations) {
  return discover_sources(options.paths, {locations.source_root, options.excludes, locations.staging_root});
}

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

int interpreter_processes(const CompileOptions& options) { return options.jobs > 0 ? options.jobs : usable_cores(); }

}  // namespace pycemit
