// pycemit compile: write pycs for sources (compile_job.h).
#include <chrono>
#include <memory>

#include "commands.h"
#include "compile_options.h"

namespace pycemit::cli {

Command add_compile_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("compile", "Compile Python sources into reproducible pycs");
  cmd->footer(kExitStatusHelp);
  auto s = std::make_shared<SelectionOptions>();
  auto on_error = std::make_shared<std::string>("fail");
  add_selection_options(*cmd, *s);
  add_run_options(*cmd, *s);
  CompileOptions& o = s->options;
  cmd->add_flag("-f,--force", o.force, "Rewrite outputs even when they are up to date");
  cmd->add_flag("--fail-fast", o.fail_fast, "Stop at the first file that fails");
  cmd->add_option("--on-error", *on_error, "A source that does not compile: fail (exit 1), warn or skip (exit 0)")
      ->check(CLI::IsMember({"fail", "warn", "skip"}))
      ->capture_default_str();
  cmd->add_flag("--hardlink-dupes", o.hardlink_dupes, "Hardlink optimization levels whose pycs are identical");
  cmd->add_flag("--clamp-source-mtime", o.clamp_source_mtime,
                "Timestamp mode: first set each source newer than SOURCE_DATE_EPOCH to it");
  cmd->add_option("--manifest", o.manifest, "Write a JSON manifest of every output (source, path, tag, level, mode, size, SHA-256)")
      ->type_name("FILE");
  cmd->add_option("--record", o.record, "Add or update the pycs' lines in this wheel RECORD file")->type_name("FILE");

  return {cmd, [s, on_error] {
            CompileOptions o = s->options;
            o.timeout = std::chrono::milliseconds(static_cast<long long>(s->timeout_seconds * 1000));
            o.on_error = *on_error == "warn" ? OnError::Warn : *on_error == "skip" ? OnError::Skip : OnError::Fail;
            Reporter reporter(s->verbosity(), stderr_is_terminal());
            return run_compile(o, reporter);
          }};
}

}  // namespace pycemit::cli
