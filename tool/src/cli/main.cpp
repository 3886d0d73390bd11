// pycemit: reproducible CPython bytecode for build systems.
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "compile_options.h"
#include "errors.h"
#include "pycemit/exit_status.h"
#include "python_tools.h"

namespace pycemit::cli {

const char* const kExitStatusHelp =
    "\nExit status:\n"
    "  0  success\n"
    "  1  some files could not be compiled, read or written; or `check` found problems\n"
    "  2  bad options or arguments\n"
    "  3  the interpreter is missing, is not CPython 3.8 or later, or failed its handshake\n"
    "  4  internal error\n";

}  // namespace pycemit::cli

int main(int argc, char** argv) {
  using namespace pycemit;
  ::signal(SIGPIPE, SIG_IGN);  // a dead interpreter's pipe gives EPIPE
  ::signal(SIGXFSZ, SIG_IGN);  // a file-size limit gives EFBIG, reported like a full disk
  if (cli::is_python_entry_point(argv[0])) return cli::run_python_entry_point(argc, argv);

  CLI::App app{"pycemit: reproducible CPython bytecode (.pyc) for build systems", "pycemit"};
  app.footer(cli::kExitStatusHelp);
  app.require_subcommand(1);
  app.set_version_flag("--version", "pycemit 0.1.0");

  const std::vector<cli::Command> commands = {
      cli::add_compile_command(app), cli::add_info_command(app),       cli::add_canonicalize_command(app),
      cli::add_plan_command(app),    cli::add_check_command(app),      cli::add_prune_command(app),
      cli::add_remove_command(app),  cli::add_compileall_command(app), cli::add_py_compile_command(app),
      cli::add_cache_command(app),
  };

  std::vector<std::string> args(argv + 1, argv + argc);
  if (std::find(args.begin(), args.end(), "--persistent_worker") != args.end()) return cli::run_persistent_worker();
  // `pycemit @FLAGFILE`: the whole command line from a file, one argument per
  // line (Bazel's multiline params files). @FILE after the subcommand is a path list.
  try {
    args = cli::expand_flag_file(std::move(args));
  } catch (const std::exception&) {
    const cli::CommandError error = cli::current_exception_error();
    std::cerr << error.message;
    return error.status;
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order

  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "pycemit: " << e.what() << "\n";
    return kExitUsage;
  }

  for (const auto& command : commands) {
    if (!command.subcommand->parsed()) continue;
    try {
      return command.run();
    } catch (const std::exception&) {
      const cli::CommandError error = cli::current_exception_error();
      std::cerr << error.message;
      return error.status;
    }
  }
  return kExitUsage;
}
