// Where the interpreter looks for a source's pyc: PEP 3147 / PEP 488 names, the
// pycache prefix tree (PYTHONPYCACHEPREFIX, 3.8+), and legacy sourceless pycs.
// The rules are importlib's cache_from_source (Lib/importlib/_bootstrap_external.py);
// docs/pyc-format.md, section 5. Paths are POSIX paths held
// as byte strings ('/' separators; names need not be UTF-8).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace pycemit {

enum class Layout {
  Pycache,     // <dir>/__pycache__/<stem>.<tag>[.opt-N].pyc, loaded only beside its source
  Prefix,      // <prefix>/<absolute source dir without leading '/'>/<stem>.<tag>[.opt-N].pyc
  Sourceless,  // <dir>/<stem>.pyc, loaded only when <dir>/<stem>.py does not exist
};

// Every layout, in the order above: what the command line accepts.
inline constexpr std::array<Layout, 3> kLayouts{Layout::Pycache, Layout::Prefix, Layout::Sourceless};

std::string to_string(Layout layout);                       // "pycache", "prefix", "sourceless"
std::optional<Layout> parse_layout(std::string_view text);  // inverse; nullopt if unknown

// The pyc file name cache_from_source gives `source_name` (a base name, no '/')
// for `cache_tag` ("cpython-312") and optimization level `optimize` (0, 1 or 2):
//   "a.py" -> "a.cpython-312.pyc", "a.b.py" -> "a.b.cpython-312.opt-1.pyc",
//   "a" -> "acpython-312.pyc" (no dot: importlib's rpartition rule, kept as is).
std::string cached_file_name(std::string_view source_name, std::string_view cache_tag, int optimize);

// The legacy sourceless name: the source name up to its last '.', plus ".pyc"
// ("a.py" -> "a.pyc", "a.pyw" -> "a.pyc"; "a" -> "a.pyc"). Carries no opt tag.
std::string sourceless_file_name(std::string_view source_name);

// The path where the interpreter looks for the pyc of the source at
// `runtime_source` (an absolute path: where the source is at run time).
// `pycache_prefix` (absolute) is used, and required, only for Layout::Prefix.
// Throws std::invalid_argument if `runtime_source` or the prefix is not absolute.
// One deliberate difference: for a source directly in "/", CPython's
// _path_split gives an empty directory, so its own pyc path depends on the
// working directory; pycemit uses "/" ("/__pycache__/x.<tag>.pyc").
std::string runtime_pyc_path(std::string_view runtime_source, Layout layout, std::string_view cache_tag, int optimize,
                             std::string_view pycache_prefix = {});

// A pyc file name taken apart: "<stem>.<tag>[.opt-<level>].pyc". nullopt when the
// name is not of that shape. `level` is 0 without an opt tag.
struct CachedName {
  std::string stem;
  std::string cache_tag;
  int optimize = 0;
};
std::optional<CachedName> parse_cached_file_name(std::string_view pyc_name);

// Small POSIX path helpers shared by the pipeline (purely lexical, no file access).
std::string path_join(std::string_view a, std::string_view b);  // "a" + "/" + "b", one '/'
std::string_view path_dirname(std::string_view path);           // "/a/b.py" -> "/a", "b.py" -> ""
std::string_view path_basename(std::string_view path);          // "/a/b.py" -> "b.py"

}  // namespace pycemit
