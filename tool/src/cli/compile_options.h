// Options shared by the commands that select sources and outputs.
#pragma once

#include <CLI/CLI.hpp>

#include "pycemit/compile_job.h"
#include "pycemit/reporter.h"

namespace pycemit::cli {

struct SelectionOptions {
  CompileOptions options;
  double timeout_seconds = 60;
  bool quiet = false;
  bool verbose = false;

  Verbosity verbosity() const;
};

// PATH..., --exclude, --python, --invalidation-mode, -O, --layout,
// --pycache-prefix, --source-root, --install-root, --output-root, --root, --embed-prefix.
void add_selection_options(CLI::App& cmd, SelectionOptions& s);

// -j/--jobs, --timeout, -q, -v.
void add_run_options(CLI::App& cmd, SelectionOptions& s);

bool stderr_is_terminal();

}  // namespace pycemit::cli
