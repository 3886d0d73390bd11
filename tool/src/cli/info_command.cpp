// pycemit info: what pycemit learns from a target interpreter, as JSON.
#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "pycemit/compile_run.h"
#include "pycemit/format_probe.h"
#include "pycemit/interpreter_cache.h"
#include "pycemit/interpreter_pool.h"
#include "pycemit/interpreter_process.h"

namespace pycemit::cli {

Command add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "info",
      "Print what pycemit learns from the target interpreter (version, cache tag, magic number, source-hash variant, "
      "marshal version, code layout, free-threaded) and whether its pyc format is known or passed the probe, as JSON");
  cmd->footer(kExitStatusHelp);
  auto python = std::make_shared<std::string>("python3");
  cmd->add_option("--python", *python, "Target interpreter: a path, or a name looked up on PATH")
      ->type_name("EXE")
      ->capture_default_str();
  return {cmd, [python] {
            InterpreterPool pool(resolve_executable(*python), 1, std::chrono::seconds(60));
            InterpreterInfo info = pool.handshake();  // always asks: info is the authority
            std::string format = "known";
            std::string probe_error;
            if (!info.known_format) {
              try {
                probe_format(pool, info);
                format = "probed";
              } catch (const InterpreterError& e) {
                format = "failed";
                probe_error = e.what();
              }
            }
            if (format != "failed") store_cached_interpreter(info);
            char magic_hex[9];
            std::snprintf(magic_hex, sizeof magic_hex, "%02x%02x%02x%02x", info.magic[0], info.magic[1], info.magic[2],
                          info.magic[3]);
            nlohmann::json out = {
                {"executable", info.executable},
                {"implementation", info.implementation},
                {"implementation_version", info.implementation_version},
                {"version", info.version_string()},
                {"release_level", info.release_level},
                {"cache_tag", info.cache_tag ? nlohmann::json(*info.cache_tag) : nlohmann::json(nullptr)},
                {"magic_number", info.magic_number()},
                {"magic_bytes", magic_hex},
                {"source_hash", "siphash-" + std::to_string(info.hash_rounds.compression) + "-" +
                                    std::to_string(info.hash_rounds.finalization)},
                {"marshal_version", info.marshal_version},
                {"code_layout", to_string(info.code_layout)},
                {"free_threaded", info.free_threaded},
                {"format", format},
            };
            if (!info.known_format) out["format_note"] = info.format_note;
            if (!probe_error.empty()) out["probe_error"] = probe_error;
            std::cout << out.dump(2) << "\n";
            if (format == "failed") {
              std::cerr << "pycemit: " << probe_error << "\n";
              return static_cast<int>(kExitInterpreter);
            }
            return 0;
          }};
}

}  // namespace pycemit::cli
