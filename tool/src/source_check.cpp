#include "pycemit/source_check.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "pycemit/file_io.h"
#include "pycemit/marshal.h"

namespace pycemit {
namespace {

// Sets the source's mtime to `epoch` when it is newer. Runs before anything
// looks at the source's identity, so the check cache sees the clamped mtime.
void clamp_mtime(const std::string& path, std::int64_t epoch) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return;  // reading the source reports the error
  if (st.st_mtim.tv_sec < epoch || (st.st_mtim.tv_sec == epoch && st.st_mtim.tv_nsec == 0)) return;
  const timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(epoch), 0}};
  if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
    throw FileError(path + ": cannot clamp mtime to SOURCE_DATE_EPOCH: " + std::strerror(errno));
  }
}

}  // namespace

CheckSettings::CheckSettings(const CompileOptions& options, const Locations& loc, const InterpreterInfo& info)
    : locations(&loc), layout(options.layout), levels(options.levels), interpreter(&info), mode(options.mode) {}

SourceCheck check_source(const SourceFile& source, const CheckSettings& settings) {
  SourceCheck check;
  check.plan.source = source;  // known even when planning fails
  try {
    check.plan = plan_source(source, *settings.locations, settings.layout, settings.interpreter->cache_tag,
                             settings.levels);
    if (settings.clamp_mtime_to) clamp_mtime(source.path, *settings.clamp_mtime_to);
    if (settings.cache) {
      std::vector<std::string> outputs;
      for (const auto& out : check.plan.outputs) outputs.push_back(out.path);
      if (settings.cache->unchanged(source.absolute, outputs)) {
        check.states.assign(outputs.size(), OutputState::Current);
        check.from_cache = true;
        return check;
      }
    }
    struct stat st{};
    const std::string bytes = read_file(source.path, &st);
    check.source_identity = identity_of(st);
    const PycHeaderBytes header = expected_header(*settings.interpreter, settings.mode, bytes, st);
    const auto layout = marshal::code_layout_for_minor(settings.interpreter->minor);
    for (const auto& out : check.plan.outputs) {
      check.states.push_back(output_state(out.path, header, check.plan.embedded_path, layout));
    }
  } catch (const std::runtime_error& e) {  // PlanError, FileError
    check.error = e.what();
  }
  return check;
}

std::vector<SourceCheck> check_sources(const std::vector<SourceFile>& sources, const CheckSettings& settings,
                                       int threads) {
  std::vector<SourceCheck> checks(sources.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < sources.size(); i = next++) checks[i] = check_source(sources[i], settings);
  };
  std::vector<std::thread> helpers;
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), sources.size());
  for (std::size_t t = 1; t < n; ++t) helpers.emplace_back(work);
  work();
  for (auto& h : helpers) h.join();
  return checks;
}

}  // namespace pycemit
