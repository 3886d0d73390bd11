// `pycemit py_compile`: CPython's `python -m py_compile` command line
// (Lib/py_compile.py's main) on the pycemit pipeline (python_tools.h).
//   3.10 and later: [-q] FILE... or "-" (names on stdin, one a line); the first
//   file that fails ends the run with exit status 1 and its error on stderr
//   (nothing with -q).
//   3.9: every argument is a file name; each failure is one error on stderr,
//   the others are still compiled; exit status 1 when any failed.
// pycemit compiles every file that can be compiled (CPython stops at the first
// failure); the status and the error printed are the first failure's.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "pycemit/exit_status.h"
#include "python_tools.h"

namespace pycemit::cli {
namespace {

constexpr const char* kUsage = "usage: pycemit py_compile [-h] [-q] filenames [filenames ...]\n";

// The OSError text reading `path` gives in Python ("[Errno 2] No such file or
// directory: 'x.py'"), or "" when it can be read.
std::string read_error(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  int error = fd < 0 ? errno : 0;
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) error = EISDIR;
    ::close(fd);
  }
  if (error == 0) return "";
  return "[Errno " + std::to_string(error) + "] " + std::strerror(error) + ": " + python_repr(path);
}

}  // namespace

int run_py_compile(const std::vector<std::string>& args, const TargetInterpreter& target) {
  const int minor = target_minor(target);
  bool quiet = false;
  std::vector<std::string> names;
  if (minor >= 10) {
    bool only_names = false;
    for (const auto& a : args) {
      if (!only_names && a == "--") {
        only_names = true;
      } else if (!only_names &&
                 (a == "-q" || a == "--quiet" || a == "--q" || a == "--qu" || a == "--qui" || a == "--quie")) {
        quiet = true;
      } else if (!only_names && (a == "-h" || a == "--help" || a == "--h" || a == "--he" || a == "--hel")) {
        std::cout << kUsage
                  << "\nA simple command-line interface for py_compile module.\n\npositional arguments:\n"
                     "  filenames    Files to compile\n\noptions:\n  -h, --help   show this help message and exit\n"
                     "  -q, --quiet  Suppress error output\n";
        return kExitOk;
      } else if (!only_names && a.size() > 1 && a[0] == '-' && a != "-") {
        std::cerr << kUsage << "pycemit py_compile: error: unrecognized arguments: " << a << "\n";
        return kExitUsage;
      } else {
        names.push_back(a);
      }
    }
    if (names.empty()) {
      std::cerr << kUsage << "pycemit py_compile: error: the following arguments are required: filenames\n";
      return kExitUsage;
    }
  } else {
    names = args;
  }
  const bool from_stdin = names.size() == 1 && names[0] == "-";
  if (from_stdin) {
    names.clear();
    std::string line;
    while (std::getline(std::cin, line)) names.push_back(line);
  }

  std::vector<std::string> errors(names.size());
  std::vector<ToolSource> sources;
  std::vector<std::size_t> source_of(names.size(), SIZE_MAX);
  for (std::size_t i = 0; i < names.size(); ++i) {
    errors[i] = read_error(names[i]);
    if (errors[i].empty()) {
      source_of[i] = sources.size();
      sources.push_back({names[i], std::nullopt});
    }
  }
  ToolSettings settings;
  const std::vector<ToolOutcome> outcomes = run_tool_pipeline(sources, settings, target);

  int status = kExitOk;
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::string message = errors[i];
    if (message.empty()) {
      const ToolOutcome& o = outcomes[source_of[i]];
      if (!o.failed) continue;
      message = o.message;
    }
    status = kExitFailures;
    if (minor >= 10) {
      if (!quiet) std::cerr << message << std::flush;  // parser.exit(1, message): no newline added
      return status;
    }
    std::cerr << message << "\n";
  }
  return status;
}

Command add_py_compile_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("py_compile", "CPython's `python -m py_compile` command line, with reproducible pycs");
  cmd->prefix_command();
  cmd->set_help_flag();
  cmd->allow_extras();
  return {cmd, [cmd] {
            // pycemit's own option, before py_compile's: --python EXE (default python3).
            std::vector<std::string> args = cmd->remaining();
            TargetInterpreter target;
            if (args.size() >= 2 && args[0] == "--python") {
              target.python = args[1];
              args.erase(args.begin(), args.begin() + 2);
            } else if (!args.empty() && args[0].rfind("--python=", 0) == 0) {
              target.python = args[0].substr(9);
              args.erase(args.begin());
            }
            return run_py_compile(args, target);
          }};
}

}  // namespace pycemit::cli
