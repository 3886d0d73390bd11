// pycemit remove: delete the outputs a manifest lists (an uninstall step for
// pycs that an install script wrote, which the build system's own uninstall
// does not know), then the __pycache__ directories left empty. A missing
// manifest means nothing was installed: not an error.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <set>

#include "commands.h"
#include "pycemit/exit_status.h"
#include "pycemit/file_io.h"
#include "pycemit/manifest.h"
#include "pycemit/naming.h"

namespace pycemit::cli {

Command add_remove_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("remove", "Delete the pycs listed in manifests (compile --manifest), for uninstalling");
  cmd->footer(kExitStatusHelp);
  auto manifests = std::make_shared<std::vector<std::string>>();
  auto dry_run = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  cmd->add_option("MANIFEST", *manifests, "Manifests written by `pycemit compile --manifest`")->required();
  cmd->add_flag("-n,--dry-run", *dry_run, "List what would be removed; remove nothing");
  cmd->add_flag("-q,--quiet", *quiet, "Print errors only");
  return {cmd, [manifests, dry_run, quiet] {
            int status = kExitOk;
            std::size_t removed = 0;
            std::set<std::string> dirs;
            for (const auto& manifest : *manifests) {
              if (!stat_path(manifest)) {  // never installed: nothing to remove, as `ninja uninstall` says
                if (!*quiet) std::cerr << "pycemit: " << manifest << ": no manifest, nothing to remove\n";
                continue;
              }
              std::vector<std::string> outputs;
              try {
                outputs = read_manifest_outputs(manifest);
              } catch (const std::exception& e) {
                std::cerr << "pycemit: " << e.what() << "\n";
                status = kExitFailures;
                continue;
              }
              for (const auto& pyc : outputs) {
                if (*dry_run) {
                  std::cout << pyc << "\n";
                } else if (::unlink(pyc.c_str()) == 0) {
                  ++removed;
                  dirs.insert(std::string(path_dirname(pyc)));
                } else if (errno != ENOENT) {  // already gone is what we want
                  std::cerr << pyc << ": cannot remove: " << std::strerror(errno) << "\n";
                  status = kExitFailures;
                }
              }
            }
            for (const auto& dir : dirs) {
              if (path_basename(dir) == "__pycache__") ::rmdir(dir.c_str());  // only succeeds when empty
            }
            if (!*quiet && !*dry_run) std::cerr << "pycemit: " << removed << " pycs removed\n";
            return status;
          }};
}

}  // namespace pycemit::cli
