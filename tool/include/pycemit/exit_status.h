// The exit statuses of every pycemit command (README.md, `pycemit --help`).
// Build systems and scripts branch on them, so they never change meaning.
#pragma once

namespace pycemit {

enum ExitStatus : int {
  kExitOk = 0,
  kExitFailures = 1,     // some files could not be compiled, read or written (or `check` found problems)
  kExitUsage = 2,        // bad options or arguments
  kExitInterpreter = 3,  // the interpreter is missing, not CPython 3.8+, or failed its handshake
  kExitInternal = 4,     // a bug or an unexpected system error
};

}  // namespace pycemit
