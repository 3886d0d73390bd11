// The pycemit subcommands. Each registers itself and its options on the CLI11
// app and returns the subcommand with a function that runs it and yields the
// exit status (exit_status.h).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "pycemit/exit_status.h"

namespace pycemit::cli {

struct Command {
  CLI::App* subcommand;
  std::function<int()> run;
};

Command add_compile_command(CLI::App& app);
Command add_info_command(CLI::App& app);
Command add_canonicalize_command(CLI::App& app);
Command add_plan_command(CLI::App& app);
Command add_check_command(CLI::App& app);
Command add_prune_command(CLI::App& app);
Command add_remove_command(CLI::App& app);
// CPython's own tools' command lines, every argument after the name unparsed (python_tools.h).
Command add_compileall_command(CLI::App& app);
Command add_py_compile_command(CLI::App& app);
// The local compile cache: stats, trim, clear (cache_command.cpp).
Command add_cache_command(CLI::App& app);

// Bazel's JSON persistent-worker protocol on stdin/stdout (persistent_worker.cpp).
int run_persistent_worker();

// Text for --help: the exit statuses every command uses.
extern const char* const kExitStatusHelp;

}  // namespace pycemit::cli
