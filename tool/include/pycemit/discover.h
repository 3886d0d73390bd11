// The discover stage: turns PATH arguments, @lists and --exclude globs into a
// sorted list of source files.
//
// Rules (as compileall's directory walk, with explicit choices where it has none):
//   - a directory is walked recursively, in sorted order; "__pycache__" is never
//     entered; files named "*.py" are sources; symlinks are followed (a symlink
//     loop is entered once);
//   - a file given explicitly is a source whatever its name;
//   - "@FILE" is replaced by the paths in FILE, one per line (blank lines ignored);
//   - an --exclude glob without '/' matches a file or directory base name; one with
//     '/' matches the path relative to the source root (fnmatch(3), '*' crosses '/').
//     An excluded directory is not entered;
//   - with a staging root, a symlink whose target is outside it is refused
//     (compileall -e), and so is a PATH argument that resolves outside it;
//   - a missing path, a dangling symlink named *.py, an unlistable directory or a
//     source that is not a regular file is an error for that path; the rest goes on.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pycemit {

struct SourceFile {
  std::string path;      // as found: the argument, or a directory argument joined with names
  std::string absolute;  // absolute and lexically normal (no ".", "..", "//"); the sort key
};

struct DiscoverOptions {
  std::string source_root;                  // absolute; --exclude paths are relative to it
  std::vector<std::string> excludes;        // globs
  std::optional<std::string> staging_root;  // absolute; symlinks must not leave it
};

struct Discovery {
  std::vector<SourceFile> sources;  // sorted by `absolute`, no duplicates
  std::vector<std::string> errors;  // one line each: "<path>: <reason>"
};

// Walks `arguments` (paths and @FILE lists). Never throws for a bad path; an
// unreadable @FILE is an error line too.
Discovery discover_sources(const std::vector<std::string>& arguments, const DiscoverOptions& options);

// `path` made absolute against the working directory and lexically normalised
// ("." and "//" removed, ".." applied to the text, trailing '/' removed).
std::string absolute_path(const std::string& path);

// `path` relative to `root` (both absolute and normal), or nullopt when `path`
// is not `root` or below it.
std::optional<std::string> relative_to(const std::string& path, const std::string& root);

// Whether an --exclude `glob` matches a path whose base name is `name` and whose
// path relative to the source root is `relative` (see the rules above).
bool exclude_matches(const std::string& glob, const std::string& name, const std::string& relative);

}  // namespace pycemit
