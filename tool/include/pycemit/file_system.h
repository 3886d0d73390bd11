// The file operations of the write stage (output_writer.h), behind an
// interface as Ninja's DiskInterface is, so that tests can make one of them
// fail (a directory that cannot be made, a write that fails) without a full
// disk or a read-only mount. RealFileSystem is file_io.h; nothing else here.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace pycemit {

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // As file_io.h's functions of the same names; each throws FileError.
  virtual void make_directories(const std::string& path) = 0;
  virtual void refuse_non_regular_output(const std::string& path) = 0;
  virtual void write_file_atomically(const std::string& path, std::string_view bytes, mode_t mode) = 0;
  virtual void link_file_atomically(const std::string& existing, const std::string& path) = 0;

  // As file_io.h's; never throw.
  virtual std::optional<std::string> read_output_file(const std::string& path) = 0;
  virtual int remove_stale_temporaries(const std::string& directory) = 0;

  // Whether anything is at `path` (lstat: a dangling symlink counts). Never throws.
  virtual bool exists(const std::string& path) = 0;

  // Whether `a` and `b` (following symlinks) are one file: the same device and
  // inode, i.e. already hardlinked. False when either is missing. Never throws.
  virtual bool same_file(const std::string& a, const std::string& b) = 0;
};

// The real file system, through file_io.h.
class RealFileSystem : public FileSystem {
 public:
  void make_directories(const std::string& path) override;
  void refuse_non_regular_output(const std::string& path) override;
  void write_file_atomically(const std::string& path, std::string_view bytes, mode_t mode) override;
  void link_file_atomically(const std::string& existing, const std::string& path) override;
  std::optional<std::string> read_output_file(const std::string& path) override;
  int remove_stale_temporaries(const std::string& directory) override;
  bool exists(const std::string& path) override;
  bool same_file(const std::string& a, const std::string& b) override;
};

}  // namespace pycemit
