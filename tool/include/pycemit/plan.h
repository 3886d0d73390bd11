// Output planning (the first step of the scan stage, and the `plan` command): for each source and optimization level,
// where its pyc is written, where the interpreter will look for it at run time, and the embedded path (co_filename,
// py_compile's dfile) it is compiled with.
//
// Four directories decide it (all absolute, lexically normal):
//   source root   sources are named by their path relative to it
//                 (--source-root; default: the staging root if given, else the
//                 working directory). Every source must be below it.
//   install root  where the source root is at run time (--install-root; default:
//                 the source root with the staging root removed, e.g. staging root
//                 /stage + source root /stage/usr/lib/python3.12 -> /usr/lib/python3.12).
//   staging root  DESTDIR / buildroot (--root): outputs are written under it at
//                 their run-time path.
//   output root   a mirror tree for build directories (--output-root): outputs are
//                 written at their run-time path relative to the install root
//                 (pycache, sourceless layouts) or to the pycache prefix (prefix layout).
// Without a staging or output root, pycache and sourceless outputs go beside the
// sources and prefix outputs to the pycache prefix itself.
//
// Embedded path: "<embed prefix>/<relative path>" with --embed-prefix; else the
// run-time path "<install root>/<relative path>" when an install or staging root
// was given; else the path relative to the source root. So it never contains a
// build directory, a staging root or the checkout path unless asked to.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "pycemit/discover.h"
#include "pycemit/interpreter.h"
#include "pycemit/naming.h"

namespace pycemit {

// Options that cannot work together, or a source outside the source root.
// Exit status 2 for options; per-file error for a source.
class PlanError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What the user gave (paths as typed; empty/nullopt when not given).
struct LocationOptions {
  std::optional<std::string> source_root;
  std::optional<std::string> install_root;
  std::optional<std::string> staging_root;
  std::optional<std::string> output_root;
  std::optional<std::string> pycache_prefix;  // run-time path (required with Layout::Prefix)
  std::optional<std::string> embed_prefix;    // used as given (not made absolute)
  // Embedded paths chosen per source by the caller, keyed by SourceFile::absolute
  // (`pycemit compileall`, whose -d/-s/-p rules are compileall's, not a prefix
  // rule). A source found here takes its embedded path from it; every other
  // source follows the rule of the file comment.
  std::shared_ptr<const std::map<std::string, std::string>> embedded_paths;
};

// The resolved directories (see the file comment for each default).
struct Locations {
  std::string source_root;
  std::string install_root;
  std::optional<std::string> staging_root;
  std::optional<std::string> output_root;
  std::optional<std::string> pycache_prefix;
  std::optional<std::string> embed_prefix;
  std::shared_ptr<const std::map<std::string, std::string>> embedded_paths;  // as LocationOptions
  bool embed_run_time_path = false;                                          // --install-root or --root given
};

// Applies defaults and checks: the source root is below the staging root, a
// pycache prefix is given for (and only for) Layout::Prefix, the install root and
// prefix are absolute. Throws PlanError naming the option.
Locations resolve_locations(const LocationOptions& given, Layout layout);

struct PlannedOutput {
  int optimize = 0;
  std::string path;          // where pycemit writes the pyc
  std::string runtime_path;  // where the interpreter looks for it
};

struct PlannedSource {
  SourceFile source;
  std::string relative;                // path relative to the source root
  std::string runtime_path;            // install root + relative
  std::string embedded_path;           // co_filename
  std::vector<PlannedOutput> outputs;  // one per requested level, in the order given
};

// The cache tag that names `layout`'s pycs for `info`: its
// sys.implementation.cache_tag, or "" for Layout::Sourceless (whose names carry
// none). Throws InterpreterError when the interpreter has no cache tag (a
// CPython 3.15 build option, gh-144278) and `layout` needs one.
std::string cache_tag_for(const InterpreterInfo& info, Layout layout);

// Plans one source. `levels`: optimization levels (0, 1, 2; a single one for
// Layout::Sourceless, whose name carries no level: validate_options checks it).
// Throws PlanError when the source is not below the source root.
PlannedSource plan_source(const SourceFile& source, const Locations& locations, Layout layout,
                          const std::string& cache_tag, const std::vector<int>& levels);

}  // namespace pycemit
