#include "pycemit/plan.h"

#include <filesystem>

namespace pycemit {
namespace {

std::string require_absolute(const std::string& path, const char* option) {
  if (path.empty() || path.front() != '/') {
    throw PlanError(std::string(option) + " must be an absolute path (it is a run-time location): " + path);
  }
  return absolute_path(path);
}

// Where `runtime_path` is written: under the output root (relative to `base`),
// under the staging root, or at `in_place` (the default).
std::string write_location(const Locations& loc, const std::string& runtime_path, const std::string& base,
                           const std::string& in_place) {
  if (loc.output_root) {
    const auto rel = relative_to(runtime_path, base);
    if (!rel) throw PlanError(runtime_path + " is not below " + base);
    return path_join(*loc.output_root, *rel);
  }
  if (loc.staging_root) return path_join(*loc.staging_root, runtime_path);
  return in_place;
}

}  // namespace

Locations resolve_locations(const LocationOptions& given, Layout layout) {
  Locations loc;
  if (given.staging_root) loc.staging_root = absolute_path(*given.staging_root);
  if (given.output_root) loc.output_root = absolute_path(*given.output_root);
  if (given.embed_prefix) loc.embed_prefix = *given.embed_prefix;
  loc.embedded_paths = given.embedded_paths;

  if (given.source_root) {
    loc.source_root = absolute_path(*given.source_root);
  } else {
    loc.source_root = loc.staging_root ? *loc.staging_root : absolute_path(".");
  }

  if (given.install_root) {
    loc.install_root = require_absolute(*given.install_root, "--install-root");
  } else if (loc.staging_root) {
    const auto rel = relative_to(loc.source_root, *loc.staging_root);
    if (!rel) {
      throw PlanError("--source-root " + loc.source_root + " is not inside the staging root " + *loc.staging_root +
                      " (give --install-root to say where it is at run time)");
    }
    loc.install_root = "/" + *rel;
  } else {
    loc.install_root = loc.source_root;
  }
  loc.embed_run_time_path = given.install_root.has_value() || given.staging_root.has_value();

  if (layout == Layout::Prefix) {
    if (!given.pycache_prefix) throw PlanError("--layout prefix needs --pycache-prefix DIR");
    loc.pycache_prefix = require_absolute(*given.pycache_prefix, "--pycache-prefix");
  } else if (given.pycache_prefix) {
    throw PlanError("--pycache-prefix is only used with --layout prefix");
  }
  return loc;
}

std::string cache_tag_for(const InterpreterInfo& info, Layout layout) {
  if (layout == Layout::Sourceless) return "";
  return info.require_cache_tag();
}

PlannedSource plan_source(const SourceFile& source, const Locations& loc, Layout layout, const std::string& cache_tag,
                          const std::vector<int>& levels) {
  PlannedSource plan;
  plan.source = source;
  const auto rel = relative_to(source.absolute, loc.source_root);
  if (!rel || rel->empty()) {
    throw PlanError(source.path + ": not below the source root " + loc.source_root + " (see --source-root)");
  }
  plan.relative = *rel;
  plan.runtime_path = path_join(loc.install_root, plan.relative);
  const auto chosen = loc.embedded_paths ? loc.embedded_paths->find(source.absolute)
                                         : std::map<std::string, std::string>::const_iterator();
  if (loc.embedded_paths && chosen != loc.embedded_paths->end()) {
    plan.embedded_path = chosen->second;
  } else if (loc.embed_prefix) {
    plan.embedded_path = path_join(*loc.embed_prefix, plan.relative);
  } else {
    plan.embedded_path = loc.embed_run_time_path ? plan.runtime_path : plan.relative;
  }

  const std::string prefix = loc.pycache_prefix.value_or("");
  for (int level : levels) {
    PlannedOutput out;
    out.optimize = level;
    out.runtime_path = runtime_pyc_path(plan.runtime_path, layout, cache_tag, level, prefix);
    const std::string& base = layout == Layout::Prefix ? prefix : loc.install_root;
    const std::string in_place = layout == Layout::Prefix
                                     ? out.runtime_path
                                     : path_join(loc.source_root, *relative_to(out.runtime_path, loc.install_root));
    out.path = write_location(loc, out.runtime_path, base, in_place);
    plan.outputs.push_back(std::move(out));
  }
  return plan;
}

}  // namespace pycemit
