// pycemit plan: where the outputs of `pycemit compile` with the same options
// would go, as JSON, without compiling anything. Build systems that declare
// outputs before building (CMake) ask this instead of re-deriving names.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "compile_options.h"
#include "pycemit/discover.h"
#include "pycemit/plan.h"

namespace pycemit::cli {

Command add_plan_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "plan", "Print, as JSON, the outputs `compile` would write with the same options (nothing is compiled)");
  cmd->footer(kExitStatusHelp);
  auto s = std::make_shared<SelectionOptions>();
  add_selection_options(*cmd, *s);
  return {cmd, [s] {
            const Selection sel = select_sources(*s);
            const CompileOptions& o = sel.options;
            const Locations& loc = sel.locations;
            const InterpreterInfo& info = sel.interpreter;
            const Discovery& found = sel.discovery;
            const std::string cache_tag = cache_tag_for(info, o.layout);

            nlohmann::json sources = nlohmann::json::array();
            for (const auto& source : found.sources) {
              const PlannedSource p = plan_source(source, loc, o.layout, cache_tag, o.levels);
              nlohmann::json outputs = nlohmann::json::array();
              for (const auto& out : p.outputs) {
                outputs.push_back(
                    {{"optimization_level", out.optimize}, {"path", out.path}, {"runtime_path", out.runtime_path}});
              }
              sources.push_back({{"source", source.path},
                                 {"relative", p.relative},
                                 {"embedded_path", p.embedded_path},
                                 {"outputs", outputs}});
            }
            const nlohmann::json doc = {
                {"cache_tag", info.cache_tag ? nlohmann::json(*info.cache_tag) : nlohmann::json(nullptr)},
                {"version", info.version_string()},
                {"magic_number", info.magic_number()},
                {"sources", sources}};
            std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
            return found.errors.empty() ? 0 : 1;
          }};
}

}  // namespace pycemit::cli
