// pycemit cache stats|trim|clear: the local compile cache (local_compile_cache.h, docs/cache.md).
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "pycemit/compile_cache_options.h"
#include "pycemit/local_compile_cache.h"
#include "pycemit/plan.h"

namespace pycemit::cli {
namespace {

struct CacheCommandLine {
  std::optional<std::string> directory;
  std::optional<std::string> max_size;
  bool json = false;

  // The cache's directory and size limit: the options, else the environment.
  CompileCacheOptions options() const {
    CompileCacheOptions o = compile_cache_options_from_environment();
    if (directory) o.directory = directory;
    if (max_size) o.max_bytes = parse_size(*max_size, "--max-size");
    if (!o.directory) throw PlanError("no compile cache: give --cache DIR or set PYCEMIT_COMPILE_CACHE");
    return o;
  }
};

void add_directory_option(CLI::App& cmd, CacheCommandLine& line) {
  cmd.add_option("--cache", line.directory, "The compile cache (default: $PYCEMIT_COMPILE_CACHE)")->type_name("DIR");
}

void print_removed(const LocalCacheUsage& removed) {
  std::cout << "removed " << removed.entries << " entries, " << removed.bytes << " bytes\n";
}

}  // namespace

Command add_cache_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("cache", "Show, trim or clear the local compile cache (docs/cache.md)");
  cmd->footer(kExitStatusHelp);
  cmd->require_subcommand(1);
  auto line = std::make_shared<CacheCommandLine>();

  auto* stats = cmd->add_subcommand("stats", "Entries, size and size limit");
  add_directory_option(*stats, *line);
  stats
      ->add_option("--max-size", line->max_size,
                   "The size limit to show (default: $PYCEMIT_COMPILE_CACHE_MAX_SIZE, else 1G)")
      ->type_name("SIZE");
  stats->add_flag("--json", line->json, "Print {directory, entries, bytes, max_bytes} as JSON");

  auto* trim = cmd->add_subcommand("trim", "Remove the least recently used entries until the cache fits its limit");
  add_directory_option(*trim, *line);
  trim->add_option("--max-size", line->max_size,
                   "The size to trim to (bytes, or with K, M, G; default: $PYCEMIT_COMPILE_CACHE_MAX_SIZE, else 1G)")
      ->type_name("SIZE");

  auto* clear = cmd->add_subcommand("clear", "Remove every entry");
  add_directory_option(*clear, *line);

  return {cmd, [line, stats, trim, clear] {
            const CompileCacheOptions o = line->options();
            LocalCompileCache cache(*o.directory);
            if (stats->parsed()) {
              const LocalCacheUsage usage = cache.usage();
              if (line->json) {
                const nlohmann::json doc = {{"directory", cache.directory()},
                                            {"entries", usage.entries},
                                            {"bytes", usage.bytes},
                                            {"max_bytes", o.max_bytes}};
                std::cout << doc.dump(2) << "\n";
              } else {
                std::cout << "directory: " << cache.directory() << "\nentries: " << usage.entries
                          << "\nsize: " << usage.bytes << " bytes\nmax size: " << o.max_bytes << " bytes\n";
              }
            } else if (trim->parsed()) {
              print_removed(cache.trim(o.max_bytes));
            } else if (clear->parsed()) {
              print_removed(cache.clear());
            }
            return static_cast<int>(kExitOk);
          }};
}

}  // namespace pycemit::cli
