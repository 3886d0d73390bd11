// pycemit check: reports missing, stale, non-canonical and orphaned pycs without writing anything (check.h).
// One line per finding: "<kind> <pyc> (source <source>): <cause>", "orphaned <pyc>: <cause>",
// "unreadable <source>: <cause>".
#include <iostream>
#include <memory>

#include "commands.h"
#include "compile_options.h"
#include "pycemit/check.h"

namespace pycemit::cli {

Command add_check_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "check", "List missing, stale, non-canonical and orphaned pycs for these sources; exit 1 if any");
  cmd->footer(kExitStatusHelp);
  auto s = std::make_shared<SelectionOptions>();
  add_selection_options(*cmd, *s);
  cmd->add_flag("-q,--quiet", s->quiet, "Print findings only, no summary");
  return {cmd, [s] {
            const Selection sel = select_sources(*s);
            const Discovery& found = sel.discovery;
            const auto findings = check_outputs(found.sources, sel.options, sel.locations, sel.interpreter);
            for (const auto& f : findings) {
              std::cout << to_string(f.kind) << " " << (f.pyc.empty() ? f.source : f.pyc);
              if (f.kind != CheckFinding::Kind::Orphaned && !f.pyc.empty()) std::cout << " (source " << f.source << ")";
              std::cout << ": " << f.cause << "\n";
            }
            if (!s->quiet) {
              std::cerr << "pycemit: " << found.sources.size() << " sources checked, " << findings.size()
                        << " problems\n";
            }
            return findings.empty() && found.errors.empty() ? kExitOk : kExitFailures;
          }};
}

}  // namespace pycemit::cli
