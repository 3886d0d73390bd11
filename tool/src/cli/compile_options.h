// Options shared by the commands that select sources and outputs.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "pycemit/discover.h"
#include "pycemit/interpreter.h"
#include "pycemit/plan.h"
#include "pycemit/reporter.h"
#include "pycemit/run_options.h"

namespace pycemit::cli {

struct SelectionOptions {
  CompileOptions options;
  std::optional<std::string> root_env;  // --root-env NAME
  double timeout_seconds = 60;
  bool quiet = false;
  bool verbose = false;

  Verbosity verbosity() const;
  // The options with --root-env applied: the staging root is $NAME (unset or
  // empty: "/"), and PATHs, @FILE entries and --source-root, given as run-time
  // paths, are read under it. Throws PlanError (with --root, or a relative path).
  CompileOptions resolved() const;
};

// PATH..., --exclude, --python, --invalidation-mode, -O, --layout,
// --pycache-prefix, --source-root, --install-root, --output-root, --root,
// --root-env, --embed-prefix.
void add_selection_options(CLI::App& cmd, SelectionOptions& s);

// -j/--jobs, --timeout, -q, -v.
void add_run_options(CLI::App& cmd, SelectionOptions& s);

// Everything `pycemit compile` accepts; shared with the persistent worker,
// which parses each request's arguments with it.
struct CompileCommandLine : SelectionOptions {
  std::string on_error = "fail";
  // The compile cache (docs/cache.md), over what the environment says
  // (compile_cache_options_from_environment).
  std::optional<std::string> cache_directory;  // --cache
  bool no_cache = false;                       // --no-cache
  std::optional<std::string> cache_max_size;   // --cache-max-size
  std::optional<std::string> remote_cache;     // --remote-cache
  bool remote_cache_read_only = false;
  std::optional<std::string> remote_cache_token_file;
  std::optional<std::string> remote_cache_basic_auth_file;
  std::optional<double> remote_cache_timeout_seconds;
  std::optional<double> remote_cache_connect_timeout_seconds;

  // The options with --timeout, --on-error and the cache options applied.
  // Throws PlanError (a bad size, URL or credential file).
  CompileOptions to_options() const;
};

// Selection and run options plus --force, --fail-fast, --on-error,
// --hardlink-dupes, --clamp-source-mtime, --manifest, --record and the
// compile cache's options.
void add_compile_options(CLI::App& cmd, CompileCommandLine& line);

// Reads a Bazel-style flag file: one argument per line ("multiline" format).
// Throws FileError.
std::vector<std::string> read_flag_file(const std::string& path);

// `pycemit @FLAGFILE ...`: when args[0] is "@FILE", the arguments with it
// replaced by FILE's lines (read_flag_file); else `args` as they are. An @FILE
// after the subcommand is a list of paths (discover.h), not this. Throws
// PlanError (exit status 2) when FILE cannot be read.
std::vector<std::string> expand_flag_file(std::vector<std::string> args);

// What `plan` and `check` start from: the options resolved and validated, the
// interpreter's facts (cached or from one interpreter's handshake), and the
// sources found (their errors printed on stderr).
struct Selection {
  CompileOptions options;
  Locations locations;
  InterpreterInfo interpreter;
  Discovery discovery;
};
Selection select_sources(const SelectionOptions& s);

bool stderr_is_terminal();

// The names the command line accepts for each mode and for `layouts`, as
// to_string spells them (pyc_header.h, naming.h): for CLI::CheckedTransformer.
std::map<std::string, InvalidationMode> mode_names();
std::map<std::string, Layout> layout_names(const std::vector<Layout>& layouts = {kLayouts.begin(), kLayouts.end()});

}  // namespace pycemit::cli
