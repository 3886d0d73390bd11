// How an exception that ends a command becomes an exit status and one line on
// stderr: the same rule for every command run from the command line (main.cpp)
// and for every request of the Bazel persistent worker (persistent_worker.cpp).
#pragma once

#include <string>

namespace pycemit::cli {

struct CommandError {
  int status;           // ExitStatus (exit_status.h)
  std::string message;  // "pycemit: <what>\n"
};

// The exit status and message for the exception being handled; call it only
// inside a catch block. CLI::ParseError and PlanError are bad usage (2),
// InterpreterError an interpreter problem (3), FileError a file failure (1),
// anything else an internal error (4).
CommandError current_exception_error();

}  // namespace pycemit::cli
