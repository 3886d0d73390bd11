// pycemit plan: where the outputs of `pycemit compile` with the same options
// would go, as JSON, without compiling anything. Build systems that declare
// outputs before building (CMake) ask this instead of re-deriving names.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "compile_options.h"
#include "pycemit/discover.h"
#include "pycemit/interpreter_cache.h"
#include "pycemit/plan.h"
#include "pycemit/worker_pool.h"
#include "pycemit/worker_process.h"

namespace pycemit::cli {

Command add_plan_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "plan", "Print, as JSON, the outputs `compile` would write with the same options (nothing is compiled)");
  cmd->footer(kExitStatusHelp);
  auto s = std::make_shared<SelectionOptions>();
  add_selection_options(*cmd, *s);
  return {cmd, [s] {
            const CompileOptions o = s->resolved();
            validate_options(o);
            const Locations loc = resolve_locations(o.locations, o.layout);
            WorkerPool pool(resolve_executable(o.python), 1, std::chrono::seconds(60));
            const InterpreterInfo info = learn_interpreter(pool);
            const Discovery found = discover_sources(o.paths, {loc.source_root, o.excludes, loc.staging_root});
            for (const auto& e : found.errors) std::cerr << e << "\n";

            nlohmann::json sources = nlohmann::json::array();
            for (const auto& source : found.sources) {
              const PlannedSource p = plan_source(source, loc, o.layout, info.cache_tag, o.levels);
              nlohmann::json outputs = nlohmann::json::array();
              for (const auto& out : p.outputs) {
                outputs.push_back({{"optimization_level", out.optimize}, {"path", out.path}, {"runtime_path", out.runtime_path}});
              }
              sources.push_back({{"source", source.path},
                                 {"relative", p.relative},
                                 {"embedded_path", p.embedded_path},
                                 {"outputs", outputs}});
            }
            const nlohmann::json doc = {{"cache_tag", info.cache_tag},
                                        {"version", info.version_string()},
                                        {"magic_number", info.magic_number()},
                                        {"sources", sources}};
            std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
            return found.errors.empty() ? 0 : 1;
          }};
}

}  // namespace pycemit::cli
