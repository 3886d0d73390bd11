// The write stage: puts a source's finished pycs in place. Each output is
// either written (atomically, file_io.h), left alone when it already holds the
// bytes, or, with --hardlink-dupes, made a hardlink to an earlier optimization
// level of the same source with identical bytes. Output directories are made
// once per run (a directory that cannot be made gives every output in it the
// same error), and the temporaries a killed earlier run left in a directory are
// swept once per run. All file access goes through a FileSystem (file_system.h).
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pycemit/file_system.h"

namespace pycemit {

// What the writer did to one output.
enum class Placement {
  Written,        // new bytes written
  Linked,         // made a hardlink to an earlier level's identical file now
  AlreadyLinked,  // already that hardlink
  Unchanged,      // already held these bytes
};

class OutputWriter {
 public:
  // `force`: write even when the file already holds the bytes.
  // `hardlink_dupes`: link outputs of one source whose bytes are identical.
  OutputWriter(FileSystem& fs, bool force, bool hardlink_dupes);

  // Removes, the first time a run meets `directory`, the temporaries a killed
  // run left there (file_io.h, remove_stale_temporaries), whether or not this
  // run writes there. Never throws.
  void sweep(const std::string& directory);

  // Puts bytes[k] at paths[k]: a hardlink to the first earlier output j < k
  // with bytes[j] == bytes[k] (with hardlink_dupes), nothing when the file
  // already holds them (unless force), else an atomic write with `mode`. The
  // directory is made first; an output that exists and is not a regular file
  // (a symlink, a directory) is refused. `paths` and `bytes` are per output of
  // one source, in level order; entries after k are not looked at. Throws
  // FileError.
  Placement place(const std::vector<std::string>& paths, const std::vector<std::string>& bytes, std::size_t k,
                  mode_t mode);

  // For outputs that are already current: with hardlink_dupes, makes paths[k]
  // a hardlink to the first earlier output with identical bytes, if it is not
  // one already (a run without --hardlink-dupes wrote separate copies).
  // `bytes[j]`: output j's content, nullopt when unknown (never linked).
  // Returns Unchanged when there is no such twin. Throws FileError.
  Placement relink(const std::vector<std::string>& paths, const std::vector<std::optional<std::string>>& bytes,
                   std::size_t k);

  // Writes an empty file at `path` if nothing is there yet, making its
  // directory: a build system that declared the outputs gets them all, and the
  // interpreter rejects an empty pyc ("bad magic number") and compiles the
  // source instead. Returns whether it wrote one. Throws FileError.
  bool place_placeholder(const std::string& path);

  // The content of an existing output (FileSystem::read_output_file).
  std::optional<std::string> read_output(const std::string& path) { return fs_.read_output_file(path); }

 private:
  // Makes `path` a hardlink to `twin` unless it is one already.
  Placement link_to(const std::string& twin, const std::string& path);
  void prepare_directory(const std::string& directory);

  FileSystem& fs_;
  bool force_;
  bool hardlink_dupes_;
  std::map<std::string, std::string> directory_errors_;  // directory -> why it cannot be made ("" if made)
  std::set<std::string> swept_;
};

}  // namespace pycemit
