// `pycemit-python`: the pycemit binary invoked under that name (a symlink
// installed next to it). A pipeline's line `python [options] -m compileall ARGS`
// or `-m py_compile ARGS` with `python` replaced by it runs pycemit's drop-in for
// the interpreter $PYCEMIT_PYTHON (default python3); any other line execs that
// interpreter with the arguments unchanged (python_tools.h).
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "errors.h"
#include "pycemit/exit_status.h"
#include "pycemit/interpreter_process.h"
#include "python_tools.h"

namespace pycemit::cli {
namespace {

// Interpreter options that take no value and change nothing a tool does, or
// only what python_tools.h reads from them (O, E, I).
constexpr const char* kFlagLetters = "bBdEIOPqRsSuvx";

int exec_interpreter(const std::string& python, int argc, char** argv) {
  std::string exe;
  try {
    exe = resolve_executable(python);
  } catch (const std::exception&) {
    const CommandError error = current_exception_error();
    std::cerr << error.message;
    return error.status;
  }
  // $PYCEMIT_PYTHON naming this very binary would exec it forever.
  char* self = ::realpath("/proc/self/exe", nullptr);
  char* target = ::realpath(exe.c_str(), nullptr);
  const bool loops = self && target && std::strcmp(self, target) == 0;
  std::free(self);
  std::free(target);
  if (loops) {
    std::cerr << "pycemit-python: " << python << " is pycemit itself: set PYCEMIT_PYTHON to the real interpreter\n";
    return kExitInterpreter;
  }
  std::vector<char*> args{const_cast<char*>(exe.c_str())};
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(exe.c_str(), args.data());
  std::cerr << "pycemit-python: cannot run " << exe << ": " << std::strerror(errno) << "\n";
  return kExitInterpreter;
}

}  // namespace

bool is_python_entry_point(const char* argv0) {
  if (!argv0) return false;
  const char* slash = std::strrchr(argv0, '/');
  return std::strcmp(slash ? slash + 1 : argv0, "pycemit-python") == 0;
}

int run_python_entry_point(int argc, char** argv) {
  TargetInterpreter target;
  const char* python = std::getenv("PYCEMIT_PYTHON");
  if (python && *python) target.python = python;

  int optimize = 0;
  std::optional<std::string> module;
  int i = 1;
  for (; i < argc && !module; ++i) {
    const std::string w = argv[i];
    if (w.size() < 2 || w[0] != '-' || w[1] == '-') return exec_interpreter(target.python, argc, argv);
    std::string kept = "-";  // the flags of this word, for the target's own runs
    for (std::size_t k = 1; k < w.size(); ++k) {
      const char c = w[k];
      if (std::strchr(kFlagLetters, c)) {
        if (c == 'O') ++optimize;
        if (c == 'E' || c == 'I') target.ignore_environment = true;
        kept += c;
        continue;
      }
      if (c == 'm' || c == 'X' || c == 'W') {
        std::string value = w.substr(k + 1);
        if (value.empty()) {
          if (i + 1 >= argc) return exec_interpreter(target.python, argc, argv);
          value = argv[++i];
        }
        if (c == 'm') {
          module = value;
        } else {
          if (c == 'X' && value.rfind("pycache_prefix=", 0) == 0) target.pycache_prefix = value.substr(15);
          target.interpreter_options.push_back(std::string("-") + c);
          target.interpreter_options.push_back(value);
        }
        break;
      }
      return exec_interpreter(target.python, argc, argv);  // -c, -h, -V, -i...: not a tool's line
    }
    if (kept.size() > 1) target.interpreter_options.push_back(kept);
  }
  if (!module || (*module != "compileall" && *module != "py_compile")) {
    return exec_interpreter(target.python, argc, argv);
  }
  // sys.flags.optimize: PYTHONOPTIMIZE (a number, or 1 for any other non-empty value) plus each -O.
  const char* env_optimize = target.ignore_environment ? nullptr : std::getenv("PYTHONOPTIMIZE");
  if (env_optimize && *env_optimize) {
    char* end = nullptr;
    const long v = std::strtol(env_optimize, &end, 10);
    optimize += *end == '\0' && v >= 0 ? static_cast<int>(v) : 1;
  }
  target.flags_optimize = optimize > 2 ? 2 : optimize;
  const std::vector<std::string> args(argv + i, argv + argc);
  try {
    return *module == "compileall" ? run_compileall(args, target) : run_py_compile(args, target);
  } catch (const std::exception&) {
    const CommandError error = current_exception_error();
    std::cerr << error.message;
    return error.status;
  }
}

}  // namespace pycemit::cli
