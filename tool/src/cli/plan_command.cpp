// pycemit plan: where the outputs of `pycemit compile` with the same options
// would go, without compiling anything. Build systems that declare outputs
// before building (CMake) ask this instead of re-deriving names.
//
// --format json (default): one document, {cache_tag, version, magic_number,
// sources: [{source, relative, embedded_path, outputs: [{optimization_level,
// path, runtime_path}]}]}.
// --format lines: what a build-system language without a JSON reader that is
// linear in the document's size (CMake's string(JSON) parses the whole
// document on every call) reads in one pass: a first line "cache_tag<TAB><tag>"
// (empty tag for an interpreter without one), then one line per source,
// "<path relative to the source root><TAB><output path>..." with the outputs in
// the order of the -O levels given. A path holding a tab or a newline cannot be
// written this way and is refused (exit 2).
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "compile_options.h"
#include "pycemit/discover.h"
#include "pycemit/plan.h"

namespace pycemit::cli {
namespace {

const std::string& line_field(const std::string& path) {
  if (path.find_first_of("\t\n") != std::string::npos) {
    throw PlanError("--format lines cannot name a path holding a tab or a newline: " + path);
  }
  return path;
}

}  // namespace

Command add_plan_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("plan", "Print the outputs `compile` would write with the same options (nothing is compiled)");
  cmd->footer(kExitStatusHelp);
  auto s = std::make_shared<SelectionOptions>();
  auto format = std::make_shared<std::string>("json");
  add_selection_options(*cmd, *s);
  cmd->add_option("--format", *format,
                  "json: one document; lines: 'cache_tag<TAB>TAG', then one line per source, its relative path "
                  "and its outputs separated by tabs")
      ->check(CLI::IsMember({"json", "lines"}))
      ->capture_default_str();
  return {cmd, [s, format] {
            const Selection sel = select_sources(*s);
            const CompileOptions& o = sel.options;
            const Locations& loc = sel.locations;
            const InterpreterInfo& info = sel.interpreter;
            const Discovery& found = sel.discovery;
            const std::string cache_tag = cache_tag_for(info, o.layout);

            if (*format == "lines") {
              std::string text = "cache_tag\t" + info.cache_tag.value_or("") + "\n";
              for (const auto& source : found.sources) {
                const PlannedSource p = plan_source(source, loc, o.layout, cache_tag, o.levels);
                text += line_field(p.relative);
                for (const auto& out : p.outputs) text += "\t" + line_field(out.path);
                text += "\n";
              }
              std::cout << text;
              return found.errors.empty() ? 0 : 1;
            }

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
