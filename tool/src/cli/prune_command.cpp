// pycemit prune: remove orphaned pycs (orphans.h) from __pycache__ directories
// or a pycache prefix tree, then the __pycache__ directories left empty.
// Legacy sourceless pycs are kept unless --sourceless asks for them too.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <set>

#include "commands.h"
#include "compile_options.h"
#include "pycemit/orphans.h"

namespace pycemit::cli {
namespace {

struct PruneOptions {
  std::vector<std::string> paths;
  Layout layout = Layout::Pycache;
  LocationOptions locations;
  bool dry_run = false;
  bool sourceless = false;
  bool quiet = false;
};

}  // namespace

Command add_prune_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("prune", "Remove orphaned pycs (their source is gone) below source directories");
  cmd->footer(kExitStatusHelp);
  auto o = std::make_shared<PruneOptions>();
  cmd->add_option("PATH", o->paths, "Source directories")->required();
  cmd->add_option("--layout", o->layout, "Where the pycs are: pycache (default) or prefix")
      ->transform(CLI::CheckedTransformer(layout_names({Layout::Pycache, Layout::Prefix})));
  cmd->add_option("--pycache-prefix", o->locations.pycache_prefix, "Run-time pycache prefix, with --layout prefix")
      ->type_name("DIR");
  cmd->add_option("--source-root", o->locations.source_root, "As for compile")->type_name("DIR");
  cmd->add_option("--install-root", o->locations.install_root, "As for compile")->type_name("DIR");
  cmd->add_option("--output-root", o->locations.output_root, "As for compile")->type_name("DIR");
  cmd->add_option("--root", o->locations.staging_root, "As for compile")->type_name("DIR");
  cmd->add_flag("-n,--dry-run", o->dry_run, "List what would be removed; remove nothing");
  cmd->add_flag("--sourceless", o->sourceless,
                "Also remove legacy *.pyc files outside __pycache__ (sourceless pycs) below PATH");
  cmd->add_flag("-q,--quiet", o->quiet, "Print errors only");
  return {cmd, [o] {
            // Pruning works on trees as they are, often installed ones: without
            // any root given, name sources from "/" so any PATH is below it.
            LocationOptions given = o->locations;
            if (!given.source_root && !given.staging_root && !given.install_root) given.source_root = "/";
            const Locations loc = resolve_locations(given, o->layout);
            std::vector<std::string> doomed = find_orphaned_pycs(o->paths, o->layout, loc);
            if (o->sourceless) {
              const auto legacy = find_legacy_pycs(o->paths);
              doomed.insert(doomed.end(), legacy.begin(), legacy.end());
            }
            int status = kExitOk;
            std::set<std::string> touched_dirs;
            for (const auto& pyc : doomed) {
              if (o->dry_run) {
                std::cout << pyc << "\n";
                continue;
              }
              if (::unlink(pyc.c_str()) != 0) {
                std::cerr << pyc << ": cannot remove: " << std::strerror(errno) << "\n";
                status = kExitFailures;
                continue;
              }
              if (!o->quiet) std::cout << "removed " << pyc << "\n";
              touched_dirs.insert(std::string(path_dirname(pyc)));
            }
            for (const auto& dir : touched_dirs) {
              if (path_basename(dir) == "__pycache__") ::rmdir(dir.c_str());  // only succeeds when empty
            }
            if (!o->quiet) {
              std::cerr << "pycemit: " << doomed.size() << " orphaned pycs " << (o->dry_run ? "found" : "removed")
                        << "\n";
            }
            return status;
          }};
}

}  // namespace pycemit::cli
