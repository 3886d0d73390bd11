#include "pycemit/orphans.h"

#include <algorithm>
#include <filesystem>

#include "pycemit/discover.h"
#include "pycemit/file_io.h"

namespace pycemit {
namespace {

namespace fs = std::filesystem;

bool has_source(const std::string& dir, const std::string& stem) {
  return stat_path(path_join(dir, stem + ".py")) || stat_path(path_join(dir, stem + ".pyw"));
}

bool is_directory(const std::string& path) {
  auto st = stat_path(path);
  return st && S_ISDIR(st->st_mode);
}

// Every directory below `root` (itself included), not following symlinks.
std::vector<std::string> directories_below(const std::string& root) {
  std::vector<std::string> out;
  if (!is_directory(root)) return out;
  out.push_back(root);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) out.push_back(it->path().string());
  }
  return out;
}

std::vector<std::string> pyc_names_in(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file(ec) && parse_cached_file_name(name)) names.push_back(name);
  }
  return names;
}

void pycache_orphans(const std::string& source_dir, std::vector<std::string>& out) {
  for (const auto& dir : directories_below(source_dir)) {
    if (path_basename(dir) != "__pycache__") continue;
    const std::string parent(path_dirname(dir));
    for (const auto& name : pyc_names_in(dir)) {
      if (!has_source(parent, parse_cached_file_name(name)->stem)) out.push_back(path_join(dir, name));
    }
  }
}

void prefix_orphans(const std::string& source_dir, const Locations& loc, std::vector<std::string>& out) {
  // Where the prefix tree mirrors `source_dir`: the planned output directory of
  // a (hypothetical) source directly in it.
  const std::string probe = path_join(absolute_path(source_dir), "x.py");
  const PlannedSource planned = plan_source({probe, probe}, loc, Layout::Prefix, "tag", {0});
  const std::string mirror(path_dirname(planned.outputs[0].path));
  for (const auto& dir : directories_below(mirror)) {
    const std::string rel = dir == mirror ? "" : *relative_to(dir, mirror);
    const std::string sources = path_join(source_dir, rel);
    for (const auto& name : pyc_names_in(dir)) {
      if (!has_source(sources, parse_cached_file_name(name)->stem)) out.push_back(path_join(dir, name));
    }
  }
}

}  // namespace

std::vector<std::string> find_orphaned_pycs(const std::vector<std::string>& source_dirs, Layout layout,
                                            const Locations& locations) {
  std::vector<std::string> out;
  for (const auto& dir : source_dirs) {
    if (!is_directory(dir)) continue;
    if (layout == Layout::Pycache) pycache_orphans(dir, out);
    if (layout == Layout::Prefix) prefix_orphans(dir, locations, out);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> find_legacy_pycs(const std::vector<std::string>& dirs) {
  std::vector<std::string> out;
  for (const auto& root : dirs) {
    for (const auto& dir : directories_below(root)) {
      if (path_basename(dir) == "__pycache__") continue;
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.is_regular_file(ec) && entry.path().extension() == ".pyc") {
          out.push_back(entry.path().string());
        }
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace pycemit
