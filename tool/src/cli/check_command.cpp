// pycemit check: audit pycs without writing anything (audit.h).
#include <iostream>
#include <memory>

#include "commands.h"
#include "compile_options.h"
#include "pycemit/audit.h"
#include "pycemit/interpreter_cache.h"
#include "pycemit/worker_pool.h"
#include "pycemit/worker_process.h"

namespace pycemit::cli {

Command add_check_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "check", "List missing, stale, non-canonical and orphaned pycs for these sources; exit 1 if any");
  cmd->footer(kExitStatusHelp);
  auto s = std::make_shared<SelectionOptions>();
  add_selection_options(*cmd, *s);
  cmd->add_flag("-q,--quiet", s->quiet, "Print findings only, no summary");
  return {cmd, [s] {
            const CompileOptions o = s->resolved();
            validate_options(o);
            const Locations loc = resolve_locations(o.locations, o.layout);
            WorkerPool pool(resolve_executable(o.python), 1, std::chrono::seconds(60));
            const InterpreterInfo info = learn_interpreter(pool);
            const Discovery found = discover_sources(o.paths, {loc.source_root, o.excludes, loc.staging_root});
            for (const auto& e : found.errors) std::cerr << e << "\n";
            const auto findings = audit(found.sources, o, loc, info);
            for (const auto& f : findings) {
              std::cout << to_string(f.kind) << " " << (f.pyc.empty() ? f.source : f.pyc);
              if (f.kind != AuditFinding::Kind::Orphaned && !f.pyc.empty()) std::cout << " (source " << f.source << ")";
              std::cout << "\n";
            }
            if (!s->quiet) {
              std::cerr << "pycemit: " << found.sources.size() << " sources checked, " << findings.size()
                        << " problems\n";
            }
            return findings.empty() && found.errors.empty() ? kExitOk : kExitFailures;
          }};
}

}  // namespace pycemit::cli
