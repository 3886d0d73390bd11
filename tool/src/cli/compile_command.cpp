// pycemit compile: write pycs for sources (compile_run.h).
#include <memory>

#include "commands.h"
#include "compile_options.h"
#include "pycemit/compile_run.h"

namespace pycemit::cli {

Command add_compile_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("compile", "Compile Python sources into reproducible pycs");
  cmd->footer(kExitStatusHelp);
  auto line = std::make_shared<CompileCommandLine>();
  add_compile_options(*cmd, *line);
  return {cmd, [line] {
            Reporter reporter(line->verbosity(), stderr_is_terminal());
            return run_compile(line->to_options(), reporter);
          }};
}

}  // namespace pycemit::cli
