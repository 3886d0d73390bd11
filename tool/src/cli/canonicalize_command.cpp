// pycemit canonicalize: rewrite existing pycs (from pip, uv, compileall...) in
// canonical form, in place, atomically, keeping the header and the file mode.
#include <sys/stat.h>

#include <iostream>
#include <memory>

#include "commands.h"
#include "compile_options.h"
#include "pycemit/canonical_pyc.h"
#include "pycemit/exit_status.h"
#include "pycemit/file_io.h"

namespace pycemit::cli {

Command add_canonicalize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("canonicalize", "Rewrite existing pycs canonically (FLAG_REF, set order, interning)");
  cmd->footer(kExitStatusHelp);
  auto files = std::make_shared<std::vector<std::string>>();
  auto check = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  cmd->add_option("PYC", *files, "pyc files")->required();
  cmd->add_flag("--check", *check, "Write nothing; list the pycs that are not canonical and exit 1 if any");
  cmd->add_flag("-q,--quiet", *quiet, "Print errors only");
  return {cmd, [files, check, quiet] {
            int status = kExitOk;
            std::size_t rewritten = 0;
            for (const auto& path : *files) {
              try {
                const std::string data = read_file(path);
                const std::string canonical = canonical_pyc(data);
                if (canonical == data) continue;
                if (*check) {
                  std::cout << path << "\n";
                  status = kExitFailures;
                  continue;
                }
                refuse_non_regular_output(path);
                auto st = stat_path(path);
                write_file_atomically(path, canonical, st ? st->st_mode & 07777 : 0644);
                ++rewritten;
              } catch (const std::exception& e) {
                std::cerr << path << ": " << e.what() << "\n";
                status = kExitFailures;
              }
            }
            if (!*check && !*quiet)
              std::cerr << "pycemit: " << rewritten << " of " << files->size() << " pycs rewritten\n";
            return status;
          }};
}

}  // namespace pycemit::cli
