// pycemit info: what pycemit learns from a target interpreter, as JSON.
#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "pycemit/interpreter_cache.h"
#include "pycemit/interpreter_pool.h"
#include "pycemit/interpreter_process.h"

namespace pycemit::cli {

Command add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print the target interpreter's version, cache tag, magic number, hash variant and marshal version as JSON");
  cmd->footer(kExitStatusHelp);
  auto python = std::make_shared<std::string>("python3");
  cmd->add_option("--python", *python, "Target interpreter: a path, or a name looked up on PATH")
      ->type_name("EXE")
      ->capture_default_str();
  return {cmd, [python] {
            InterpreterPool pool(resolve_executable(*python), 1, std::chrono::seconds(60));
            const InterpreterInfo info = pool.handshake();  // always asks: info is the authority
            store_cached_interpreter(info);
            const SipHashRounds rounds = source_hash_rounds(info.minor);
            char magic_hex[9];
            std::snprintf(magic_hex, sizeof magic_hex, "%02x%02x%02x%02x", info.magic[0], info.magic[1], info.magic[2],
                          info.magic[3]);
            const nlohmann::json out = {
                {"executable", info.executable},
                {"implementation", info.implementation},
                {"version", info.version_string()},
                {"cache_tag", info.cache_tag},
                {"magic_number", info.magic_number()},
                {"magic_bytes", magic_hex},
                {"source_hash", "siphash-" + std::to_string(rounds.compression) + "-" + std::to_string(rounds.finalization)},
                {"marshal_version", info.marshal_version},
            };
            std::cout << out.dump(2) << "\n";
            return 0;
          }};
}

}  // namespace pycemit::cli
