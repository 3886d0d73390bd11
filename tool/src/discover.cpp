#include "pycemit/discover.h"

#include <dirent.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <utility>

#include "pycemit/naming.h"

namespace pycemit {
namespace {

bool ends_with_py(std::string_view name) { return name.size() > 3 && name.ends_with(".py"); }

std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

// Walks paths, carrying each one's absolute form along (so nothing is made
// absolute twice) and trusting readdir's d_type for plain files and
// directories (so a tree of regular files costs no stat per file).
class Walker {
 public:
  Walker(const DiscoverOptions& options, Discovery& out)
      : options_(options),
        out_(out),
        real_staging_root_(options.staging_root ? real_path(*options.staging_root) : "") {}

  void visit_argument(const std::string& path) {
    struct stat lst {};
    if (::lstat(path.c_str(), &lst) != 0) {
      error(path, std::strerror(errno));
      return;
    }
    // With a staging root, an argument must resolve inside it, whichever of its
    // components is a symlink ("dir/" follows a symlink "dir" too).
    if (!S_ISLNK(lst.st_mode) && !inside_staging_root(path)) return;
    visit({path, absolute_path(path)}, lst.st_mode);
  }

 private:
  void error(const std::string& path, const std::string& reason) { out_.errors.push_back(path + ": " + reason); }

  bool inside_staging_root(const std::string& path) {
    if (!options_.staging_root) return true;
    const std::string target = real_path(path);
    if (target.empty() || !relative_to(target, real_staging_root_)) {
      error(path, "symlink to " + (target.empty() ? std::string("?") : target) + " points outside the staging root " +
                      *options_.staging_root + "; refused");
      return false;
    }
    return true;
  }

  bool excluded(const SourceFile& f) {
    if (options_.excludes.empty()) return false;
    const std::string rel = relative_to(f.absolute, options_.source_root).value_or(f.absolute);
    const std::string name(path_basename(f.absolute));
    return std::any_of(options_.excludes.begin(), options_.excludes.end(),
                       [&](const std::string& glob) { return exclude_matches(glob, name, rel); });
  }

  void walk_directory(const SourceFile& dir_path, const struct stat& st) {
    const std::pair<dev_t, ino_t> id{st.st_dev, st.st_ino};
    if (std::find(ancestors_.begin(), ancestors_.end(), id) != ancestors_.end()) return;  // symlink loop
    DIR* dir = ::opendir(dir_path.path.c_str());
    if (!dir) {
      error(dir_path.path, std::string("cannot list directory: ") + std::strerror(errno));
      return;
    }
    std::vector<std::pair<std::string, unsigned char>> entries;  // name, d_type
    while (const dirent* entry = ::readdir(dir)) {
      const std::string_view name = entry->d_name;
      if (name != "." && name != ".." && name != "__pycache__") entries.emplace_back(name, entry->d_type);
    }
    ::closedir(dir);
    std::sort(entries.begin(), entries.end());

    ancestors_.push_back(id);
    for (const auto& [name, type] : entries) {
      visit_entry({path_join(dir_path.path, name), path_join(dir_path.absolute, name)}, type);
    }
    ancestors_.pop_back();
  }

  // A directory entry: only directories and *.py files matter.
  void visit_entry(const SourceFile& f, unsigned char d_type) {
    if (d_type == DT_REG) {
      if (ends_with_py(f.path) && !excluded(f)) out_.sources.push_back(f);
      return;
    }
    if (d_type == DT_DIR) {
      visit(f, S_IFDIR);
      return;
    }
    struct stat lst {};                              // a symlink, something else, or a file system without d_type
    if (::lstat(f.path.c_str(), &lst) != 0) return;  // vanished while walking
    struct stat st {};
    const bool is_dir = ::stat(f.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    if (is_dir || ends_with_py(f.path)) visit(f, lst.st_mode);
  }

  // `f` exists as a directory entry of type `lmode` (lstat); follows it if it is a symlink.
  void visit(const SourceFile& f, mode_t lmode) {
    if (excluded(f)) return;
    struct stat st {};
    if (::stat(f.path.c_str(), &st) != 0) {
      error(f.path, S_ISLNK(lmode) ? "dangling symlink" : std::strerror(errno));
      return;
    }
    if (S_ISLNK(lmode) && !inside_staging_root(f.path)) return;
    if (S_ISDIR(st.st_mode)) {
      walk_directory(f, st);
    } else if (S_ISREG(st.st_mode)) {
      out_.sources.push_back(f);
    } else {
      error(f.path, "not a regular file");
    }
  }

  const DiscoverOptions& options_;
  Discovery& out_;
  std::string real_staging_root_;
  std::vector<std::pair<dev_t, ino_t>> ancestors_;
};

void read_argument_file(const std::string& list, std::vector<std::string>& out, Discovery& discovery) {
  std::ifstream in(list);
  if (!in) {
    discovery.errors.push_back(list + ": cannot read path list: " + std::strerror(errno));
    return;
  }
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
}

}  // namespace

std::string absolute_path(const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::current_path() / p;
  std::string normal = p.lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

std::optional<std::string> relative_to(const std::string& path, const std::string& root) {
  if (path == root) return std::string();
  if (root == "/") return path.substr(1);
  if (path.size() > root.size() && path.compare(0, root.size(), root) == 0 && path[root.size()] == '/') {
    return path.substr(root.size() + 1);
  }
  return std::nullopt;
}

bool exclude_matches(const std::string& glob, const std::string& name, const std::string& relative) {
  const std::string& subject = glob.find('/') == std::string::npos ? name : relative;
  return ::fnmatch(glob.c_str(), subject.c_str(), 0) == 0;
}

Discovery discover_sources(const std::vector<std::string>& arguments, const DiscoverOptions& options) {
  Discovery discovery;
  std::vector<std::string> paths;
  for (const auto& arg : arguments) {
    if (arg.size() > 1 && arg.front() == '@') {
      read_argument_file(arg.substr(1), paths, discovery);
    } else {
      paths.push_back(arg);
    }
  }
  Walker walker(options, discovery);
  for (const auto& path : paths) walker.visit_argument(path);

  auto& sources = discovery.sources;
  std::sort(sources.begin(), sources.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.absolute < b.absolute; });
  sources.erase(std::unique(sources.begin(), sources.end(),
                            [](const SourceFile& a, const SourceFile& b) { return a.absolute == b.absolute; }),
                sources.end());
  return discovery;
}

}  // namespace pycemit
