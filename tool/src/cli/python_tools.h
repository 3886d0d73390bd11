// The drop-ins for CPython's own byte-compiling tools: `pycemit compileall`
// (Lib/compileall.py's command line), `pycemit py_compile` (Lib/py_compile.py's)
// and the `pycemit-python` entry point, which runs them for a pipeline's
// unchanged `python -m compileall|py_compile ...` line. docs/compileall.md has
// the flag-by-flag comparison.
//
// What the tools decide themselves (the walk, -x, -e, the embedded paths of
// -d/-s/-p, the output lines, the exit statuses) follows the target version's
// Lib/compileall.py and Lib/py_compile.py; compiling, canonicalising, deciding
// what is current and writing is the pipeline's (run_compile, compile_run.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pycemit/pyc_header.h"

namespace pycemit::cli {

// The interpreter a tool's line targets, and what its command-line options
// change about what CPython's tool would do.
struct TargetInterpreter {
  std::string python = "python3";  // a path, or a name looked up on $PATH
  // Interpreter options of the pipeline's line ("-s", "-E", "-X", "pycache_prefix=/p"...),
  // given to the target when a tool asks it for something (sys.path, an error's text).
  std::vector<std::string> interpreter_options;
  int flags_optimize = 0;                     // sys.flags.optimize (-O, -OO): what level -1 means
  bool ignore_environment = false;            // -E or -I: PYTHONPYCACHEPREFIX is not read
  std::optional<std::string> pycache_prefix;  // -X pycache_prefix=DIR (wins over the environment)
};

// One source a tool compiles: its path as the tool names it (CPython's
// `fullname`/`file`) and the embedded path (py_compile's dfile; nullopt: the path).
struct ToolSource {
  std::string path;
  std::optional<std::string> dfile;
};

struct ToolSettings {
  std::vector<int> levels;               // optimization levels, 0..2, in any order, repeats allowed
  bool legacy = false;                   // compileall -b: <source>c, the sourceless layout
  std::optional<InvalidationMode> mode;  // nullopt: py_compile's default (SOURCE_DATE_EPOCH rule)
  bool force = false;
  int jobs = 1;  // 0: one interpreter per usable core
  bool hardlink_dupes = false;
  std::optional<std::string> stats;  // pycemit's --stats FILE
};

// What happened to one source.
struct ToolOutcome {
  bool compiled = false;  // something was compiled or written for it (not all current)
  bool failed = false;
  // When failed: py_compile's text for the failure (PyCompileError.msg, or for
  // an OSError the exception's class name and text), or pycemit's own line.
  std::string error_class;  // "" for PyCompileError, else "FileNotFoundError", ...
  std::string message;
};

// Runs the pipeline over `sources` (each a regular file; repeats counted once)
// and returns one outcome per source, in order. The pyc names are those of
// importlib's cache_from_source (or <path>c with legacy), under the pycache
// prefix of -X pycache_prefix or PYTHONPYCACHEPREFIX when set. Starts no
// interpreter when every output is current. Throws InterpreterError, PlanError,
// FileError (as run_compile).
std::vector<ToolOutcome> run_tool_pipeline(const std::vector<ToolSource>& sources, const ToolSettings& settings,
                                           const TargetInterpreter& target);

// The target's minor version (3.N), from the interpreter cache or a handshake.
// Throws InterpreterError.
int target_minor(const TargetInterpreter& target);

// Runs `argv` (argv[0] an absolute path), feeding it `input` on stdin; returns
// its stdout and sets `status` to its exit status (-1: killed). Throws
// InterpreterError when it cannot start.
std::string run_and_capture(const std::vector<std::string>& argv, const std::string& input, int& status);

// Python's repr() of a str holding file name bytes (surrogateescape), as
// compileall prints names: 'a b.py', "it's.py", 'tab\\t.py'.
std::string python_repr(const std::string& bytes);

// compileall's command line (arguments after "compileall"). Returns the exit
// status: 0 every file compiled, 1 one failed or the -i list could not be read,
// 2 bad usage, 3 the interpreter cannot be used.
int run_compileall(const std::vector<std::string>& args, const TargetInterpreter& target);

// py_compile's command line (arguments after "py_compile"): 0, or 1 when a file
// failed (its error on stderr unless -q), 2 bad usage.
int run_py_compile(const std::vector<std::string>& args, const TargetInterpreter& target);

// `pycemit-python [interpreter options] -m compileall|py_compile ARGS`: runs
// the tool for $PYCEMIT_PYTHON (default python3) with the line's interpreter
// options; any other line execs that interpreter with the arguments unchanged.
int run_python_entry_point(int argc, char** argv);

// Whether argv[0] names the entry point (its base name is "pycemit-python").
bool is_python_entry_point(const char* argv0);

}  // namespace pycemit::cli
