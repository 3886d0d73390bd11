#include "pycemit/file_system.h"

#include "pycemit/file_io.h"

namespace pycemit {

void RealFileSystem::make_directories(const std::string& path) { pycemit::make_directories(path); }

void RealFileSystem::refuse_non_regular_output(const std::string& path) { pycemit::refuse_non_regular_output(path); }

void RealFileSystem::write_file_atomically(const std::string& path, std::string_view bytes, mode_t mode) {
  pycemit::write_file_atomically(path, bytes, mode);
}

void RealFileSystem::link_file_atomically(const std::string& existing, const std::string& path) {
  pycemit::link_file_atomically(existing, path);
}

std::optional<std::string> RealFileSystem::read_output_file(const std::string& path) {
  return pycemit::read_output_file(path);
}

int RealFileSystem::remove_stale_temporaries(const std::string& directory) {
  return pycemit::remove_stale_temporaries(directory);
}

bool RealFileSystem::exists(const std::string& path) { return lstat_path(path).has_value(); }

bool RealFileSystem::same_file(const std::string& a, const std::string& b) {
  const auto sa = stat_path(a), sb = stat_path(b);
  return sa && sb && sa->st_ino == sb->st_ino && sa->st_dev == sb->st_dev;
}

}  // namespace pycemit
