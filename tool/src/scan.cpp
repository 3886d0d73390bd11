#include "pycemit/scan.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "pycemit/file_io.h"
#include "pycemit/marshal.h"
#include "pycemit/parallel.h"

namespace pycemit {
namespace {

// Sets the source's mtime to `epoch` when it is newer. Runs before anything
// looks at the source's identity, so the stat cache sees the clamped mtime.
void clamp_mtime(const std::string& path, std::int64_t epoch) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // reading the source reports the error
  if (st.st_mtim.tv_sec < epoch || (st.st_mtim.tv_sec == epoch && st.st_mtim.tv_nsec == 0)) return;
  const timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(epoch), 0}};
  if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
    throw FileError(path + ": cannot clamp mtime to SOURCE_DATE_EPOCH: " + std::strerror(errno));
  }
}

}  // namespace

ScanSettings::ScanSettings(const CompileOptions& options, const Locations& loc, const InterpreterInfo& info)
    : locations(&loc),
      layout(options.layout),
      levels(options.levels),
      interpreter(&info),
      cache_tag(cache_tag_for(info, options.layout)),
      mode(options.mode) {}

SourceScan scan_source(const SourceFile& source, const ScanSettings& settings) {
  SourceScan scan;
  scan.plan.source = source;  // known even when planning fails
  try {
    scan.plan = plan_source(source, *settings.locations, settings.layout, settings.cache_tag, settings.levels);
    if (settings.clamp_mtime_to) clamp_mtime(source.path, *settings.clamp_mtime_to);
    if (settings.cache) {
      std::vector<std::string> outputs;
      for (const auto& out : scan.plan.outputs) outputs.push_back(out.path);
      if (settings.cache->unchanged(source.absolute, outputs)) {
        scan.states.assign(outputs.size(), OutputState::Current);
        scan.causes.assign(outputs.size(), std::string());
        scan.from_cache = true;
        return scan;
      }
    }
    struct stat st {};
    const std::string bytes = read_file(source.path, &st);
    scan.source_identity = identity_of(st);
    const PycHeaderBytes header = expected_header(*settings.interpreter, settings.mode, bytes, st);
    const auto layout = settings.interpreter->code_layout;
    for (const auto& out : scan.plan.outputs) {
      OutputInspection inspection = inspect_output(out.path, header, scan.plan.embedded_path, layout);
      scan.states.push_back(inspection.state);
      scan.causes.push_back(std::move(inspection.cause));
    }
  } catch (const std::runtime_error& e) {  // PlanError, FileError
    scan.error = e.what();
  }
  return scan;
}

std::vector<SourceScan> scan_sources(const std::vector<SourceFile>& sources, const ScanSettings& settings,
                                     int threads) {
  std::vector<SourceScan> scans(sources.size());
  parallel_for(sources.size(), threads, [&](std::size_t i) { scans[i] = scan_source(sources[i], settings); });
  return scans;
}

}  // namespace pycemit
