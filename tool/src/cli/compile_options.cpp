// Options shared by every command that selects sources and outputs:
// compile, check (and the Bazel persistent worker, which runs compile's command line).
#include "compile_options.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "pycemit/discover.h"
#include "pycemit/file_io.h"
#include "pycemit/interpreter_cache.h"
#include "pycemit/interpreter_pool.h"
#include "pycemit/interpreter_process.h"
#include "pycemit/naming.h"
#include "pycemit/plan.h"

namespace pycemit::cli {
namespace {

void add_compile_cache_options(CLI::App& cmd, CompileCommandLine& line) {
  const char* group = "Compile cache (docs/cache.md)";
  cmd.add_option("--cache", line.cache_directory,
                 "Look pycs up in, and store them to, the compile cache in DIR (default: $PYCEMIT_COMPILE_CACHE)")
      ->type_name("DIR")
      ->group(group);
  cmd.add_flag("--no-cache", line.no_cache, "Use no compile cache, whatever the environment says")->group(group);
  cmd.add_option("--cache-max-size", line.cache_max_size,
                 "Size limit of the local cache, least recently used entries removed first (bytes, or with K, M, "
                 "G; default: $PYCEMIT_COMPILE_CACHE_MAX_SIZE, else 1G)")
      ->type_name("SIZE")
      ->group(group);
  cmd.add_option("--remote-cache", line.remote_cache,
                 "Also use the HTTP cache at URL: GET and PUT of URL/<key> (default: $PYCEMIT_REMOTE_CACHE)")
      ->type_name("URL")
      ->group(group);
  cmd.add_flag("--remote-cache-read-only", line.remote_cache_read_only,
               "Never store to the remote cache (also $PYCEMIT_REMOTE_CACHE_READ_ONLY=1)")
      ->group(group);
  cmd.add_option("--remote-cache-token-file", line.remote_cache_token_file,
                 "Send the bearer token on FILE's first line (also $PYCEMIT_REMOTE_CACHE_TOKEN)")
      ->type_name("FILE")
      ->group(group);
  cmd.add_option("--remote-cache-basic-auth-file", line.remote_cache_basic_auth_file,
                 "Send the user:password on FILE's first line by HTTP basic authentication (also "
                 "$PYCEMIT_REMOTE_CACHE_BASIC_AUTH)")
      ->type_name("FILE")
      ->group(group);
  cmd.add_option("--remote-cache-timeout", line.remote_cache_timeout_seconds,
                 "Seconds one remote request may take (default 10)")
      ->type_name("SECONDS")
      ->group(group);
  cmd.add_option("--remote-cache-connect-timeout", line.remote_cache_connect_timeout_seconds,
                 "Seconds connecting to the remote cache may take (default 2)")
      ->type_name("SECONDS")
      ->group(group);
}

std::chrono::milliseconds positive_seconds(double seconds, const char* option) {
  if (!(seconds > 0)) throw PlanError(std::string(option) + " must be a positive number of seconds");
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

// The compile cache's options: the environment's, then the command line's.
CompileCacheOptions cache_options(const CompileCommandLine& line) {
  if (line.no_cache) return {};
  CompileCacheOptions o = compile_cache_options_from_environment();
  if (line.cache_directory) o.directory = line.cache_directory;
  if (line.cache_max_size) o.max_bytes = parse_size(*line.cache_max_size, "--cache-max-size");
  if (line.remote_cache) {
    RemoteCacheSettings remote = remote_cache_settings_from_environment();
    remote.url = checked_remote_cache_url(*line.remote_cache);
    o.remote = std::move(remote);
  }
  const bool remote_options = line.remote_cache_read_only || line.remote_cache_token_file ||
                              line.remote_cache_basic_auth_file || line.remote_cache_timeout_seconds ||
                              line.remote_cache_connect_timeout_seconds;
  if (!o.remote) {
    if (remote_options)
      throw PlanError("the --remote-cache-* options need --remote-cache URL (or $PYCEMIT_REMOTE_CACHE)");
    return o;
  }
  RemoteCacheSettings& remote = *o.remote;
  if (line.remote_cache_read_only) remote.read_only = true;
  if (line.remote_cache_token_file) remote.bearer_token = read_credential_file(*line.remote_cache_token_file);
  if (line.remote_cache_basic_auth_file) remote.basic_auth = read_credential_file(*line.remote_cache_basic_auth_file);
  if (line.remote_cache_timeout_seconds) {
    remote.transfer_timeout = positive_seconds(*line.remote_cache_timeout_seconds, "--remote-cache-timeout");
  }
  if (line.remote_cache_connect_timeout_seconds) {
    remote.connect_timeout =
        positive_seconds(*line.remote_cache_connect_timeout_seconds, "--remote-cache-connect-timeout");
  }
  return o;
}

}  // namespace

std::map<std::string, InvalidationMode> mode_names() {
  std::map<std::string, InvalidationMode> names;
  for (InvalidationMode mode : kInvalidationModes) names.emplace(to_string(mode), mode);
  return names;
}

std::map<std::string, Layout> layout_names(const std::vector<Layout>& layouts) {
  std::map<std::string, Layout> names;
  for (Layout layout : layouts) names.emplace(to_string(layout), layout);
  return names;
}

void add_selection_options(CLI::App& cmd, SelectionOptions& s) {
  CompileOptions& o = s.options;
  cmd.add_option("PATH", o.paths,
                 "Source files and directories (recursing into *.py); @FILE reads paths from FILE, one per line")
      ->required();
  cmd.add_option("--exclude", o.excludes,
                 "Skip files and directories matching GLOB (a base name, or with '/' a path relative to the source "
                 "root); repeatable")
      ->type_name("GLOB")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd.add_option("--python", o.python, "Target interpreter, CPython 3.8 or later: a path, or a name looked up on PATH")
      ->type_name("EXE")
      ->capture_default_str();
  cmd.add_option("--invalidation-mode", o.mode, "PEP 552 invalidation mode")
      ->transform(CLI::CheckedTransformer(mode_names(), CLI::ignore_case, CLI::ignore_underscore))
      ->default_str(to_string(CompileOptions().mode));
  cmd.add_option("-O,--optimize", o.levels,
                 "Optimization level 0, 1 or 2; repeat for several (one pyc each, .opt-N names)")
      ->type_name("LEVEL")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->default_str("0");
  cmd.add_option("--layout", o.layout,
                 "Where pycs go: __pycache__ (PEP 3147), a pycache prefix tree, or beside the source (sourceless)")
      ->transform(CLI::CheckedTransformer(layout_names(), CLI::ignore_case))
      ->default_str(to_string(CompileOptions().layout));
  auto& loc = o.locations;
  cmd.add_option("--pycache-prefix", loc.pycache_prefix,
                 "Run-time pycache prefix (PYTHONPYCACHEPREFIX) for --layout prefix")
      ->type_name("DIR");
  cmd.add_option("--source-root", loc.source_root,
                 "Sources are named by their path relative to DIR (default: --root, else the working directory)")
      ->type_name("DIR");
  cmd.add_option("--install-root", loc.install_root, "Absolute directory where the source root is at run time")
      ->type_name("DIR");
  cmd.add_option("--output-root", loc.output_root, "Write outputs into a mirror tree under DIR instead of in place")
      ->type_name("DIR");
  cmd.add_option("--root", loc.staging_root,
                 "Staging root (DESTDIR, buildroot): paths under it are installed at the same path without it")
      ->type_name("DIR");
  cmd.add_option("--root-env", s.root_env,
                 "Staging root from environment variable NAME (unset or empty: /), e.g. DESTDIR in an install "
                 "script; PATHs and --source-root are then run-time paths, read under it")
      ->type_name("NAME");
  cmd.add_option("--embed-prefix", loc.embed_prefix,
                 "Embedded path (co_filename) is P/<path relative to the source root>")
      ->type_name("P");
}

void add_run_options(CLI::App& cmd, SelectionOptions& s) {
  CompileOptions& o = s.options;
  cmd.add_option("-j,--jobs", o.jobs, "Interpreter processes (0: one per usable core)")->capture_default_str();
  cmd.add_option("--timeout", s.timeout_seconds, "Seconds one file may take before its interpreter is killed")
      ->capture_default_str();
  cmd.add_flag("-q,--quiet", s.quiet, "Print errors only");
  cmd.add_flag("-v,--verbose", s.verbose, "Name every output and what happened to it");
}

void add_compile_options(CLI::App& cmd, CompileCommandLine& line) {
  add_selection_options(cmd, line);
  add_run_options(cmd, line);
  CompileOptions& o = line.options;
  cmd.add_flag("-f,--force", o.force, "Rewrite outputs even when they are up to date");
  cmd.add_flag("--fail-fast", o.fail_fast, "Stop at the first file that fails");
  cmd.add_option("--on-error", line.on_error, "A source that does not compile: fail (exit 1), warn or skip (exit 0)")
      ->check(CLI::IsMember({"fail", "warn", "skip"}))
      ->capture_default_str();
  cmd.add_flag("--hardlink-dupes", o.hardlink_dupes, "Hardlink optimization levels whose pycs are identical");
  cmd.add_flag("--clamp-source-mtime", o.clamp_source_mtime,
               "Timestamp mode: first set each source newer than SOURCE_DATE_EPOCH to it");
  cmd.add_option("--manifest", o.manifest,
                 "Write a JSON manifest of every output (source, path, tag, level, mode, size, SHA-256)")
      ->type_name("FILE");
  cmd.add_option("--record", o.record, "Add or update the pycs' lines in this wheel RECORD file")->type_name("FILE");
  cmd.add_flag("!--no-stat-cache", o.stat_cache,
               "Read every source and pyc instead of trusting the identities (inode, size, times) of files "
               "unchanged since the last run found them current");
  cmd.add_flag_callback(
      "--verify", [&o] { o.verify = true; },
      "Have the interpreter load back every pyc body written and compare it with the code it compiled "
      "(on by default for an interpreter whose pyc format pycemit does not know)");
  cmd.add_flag_callback(
      "--no-verify", [&o] { o.verify = false; }, "Do not, even for an interpreter whose pyc format was only probed");
  cmd.add_option("--expect-cache-tag", o.expect_cache_tag,
                 "Refuse (exit 3) an interpreter whose cache tag is not TAG: for build systems that named the outputs")
      ->type_name("TAG");
  cmd.add_flag("--placeholder-for-skipped", o.placeholder_for_skipped,
               "With --on-error warn/skip, write an empty file at each missing output of a skipped source "
               "(for build systems that require every declared output)");
  cmd.add_option("--stats", o.stats,
                 "Write the run's counts, seconds and peak memory (KiB, pycemit and its largest interpreter) as JSON")
      ->type_name("FILE");
  add_compile_cache_options(cmd, line);
}

CompileOptions SelectionOptions::resolved() const {
  CompileOptions o = options;
  if (!root_env) return o;
  if (o.locations.staging_root) throw PlanError("--root-env and --root exclude each other");
  const char* value = std::getenv(root_env->c_str());
  const std::string root = value && *value ? absolute_path(value) : "/";
  auto staged = [&](const std::string& run_time_path) {
    if (run_time_path.empty() || run_time_path.front() != '/') {
      throw PlanError("with --root-env, paths are absolute run-time paths: " + run_time_path);
    }
    return path_join(root, run_time_path);
  };
  std::vector<std::string> paths;
  for (const auto& p : o.paths) {
    if (p.size() > 1 && p.front() == '@') {
      for (const auto& line : read_flag_file(p.substr(1))) {
        if (!line.empty()) paths.push_back(staged(line));
      }
    } else {
      paths.push_back(staged(p));
    }
  }
  o.paths = std::move(paths);
  if (o.locations.source_root) o.locations.source_root = staged(*o.locations.source_root);
  o.locations.staging_root = root;
  return o;
}

CompileOptions CompileCommandLine::to_options() const {
  CompileOptions o = resolved();
  o.timeout = std::chrono::milliseconds(static_cast<long long>(timeout_seconds * 1000));
  o.on_error = on_error == "warn" ? OnError::Warn : on_error == "skip" ? OnError::Skip : OnError::Fail;
  o.cache = cache_options(*this);
  return o;
}

std::vector<std::string> read_flag_file(const std::string& path) {
  const std::string text = read_file(path);
  std::vector<std::string> args;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    args.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return args;
}

std::vector<std::string> expand_flag_file(std::vector<std::string> args) {
  if (args.empty() || args[0].size() < 2 || args[0][0] != '@') return args;
  std::vector<std::string> expanded;
  try {
    expanded = read_flag_file(args[0].substr(1));
  } catch (const FileError& e) {
    throw PlanError(e.what());  // the command line itself cannot be read: bad usage
  }
  expanded.insert(expanded.end(), args.begin() + 1, args.end());
  return expanded;
}

Verbosity SelectionOptions::verbosity() const {
  return quiet ? Verbosity::Quiet : verbose ? Verbosity::Verbose : Verbosity::Normal;
}

Selection select_sources(const SelectionOptions& s) {
  Selection sel;
  sel.options = s.resolved();
  validate_options(sel.options);
  sel.locations = resolve_locations(sel.options.locations, sel.options.layout);
  InterpreterPool pool(resolve_executable(sel.options.python), 1, std::chrono::seconds(60));
  sel.interpreter = learn_interpreter(pool);
  if (!sel.interpreter.known_format) std::cerr << unknown_format_warning(sel.interpreter) << "\n";
  cache_tag_for(sel.interpreter, sel.options.layout);  // refuses a layout this interpreter cannot use
  sel.discovery = discover_sources(sel.options, sel.locations);
  for (const auto& e : sel.discovery.errors) std::cerr << e << "\n";
  return sel;
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace pycemit::cli
