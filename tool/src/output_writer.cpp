#include "pycemit/output_writer.h"

#include "pycemit/file_io.h"
#include "pycemit/naming.h"

namespace pycemit {

OutputWriter::OutputWriter(FileSystem& fs, bool force, bool hardlink_dupes)
    : fs_(fs), force_(force), hardlink_dupes_(hardlink_dupes) {}

void OutputWriter::sweep(const std::string& directory) {
  if (swept_.insert(directory).second) fs_.remove_stale_temporaries(directory);
}

Placement OutputWriter::place(const std::vector<std::string>& paths, const std::vector<std::string>& bytes,
                              std::size_t k, mode_t mode) {
  const std::string& path = paths[k];
  prepare_directory(std::string(path_dirname(path)));
  fs_.refuse_non_regular_output(path);
  for (std::size_t j = 0; hardlink_dupes_ && j < k; ++j) {
    if (bytes[j] == bytes[k]) return link_to(paths[j], path);
  }
  if (!force_ && fs_.read_output_file(path) == bytes[k]) return Placement::Unchanged;
  fs_.write_file_atomically(path, bytes[k], mode);
  return Placement::Written;
}

Placement OutputWriter::relink(const std::vector<std::string>& paths,
                               const std::vector<std::optional<std::string>>& bytes, std::size_t k) {
  if (!hardlink_dupes_ || !bytes[k]) return Placement::Unchanged;
  for (std::size_t j = 0; j < k; ++j) {
    if (bytes[j] == bytes[k]) return link_to(paths[j], paths[k]);
  }
  return Placement::Unchanged;
}

bool OutputWriter::place_placeholder(const std::string& path) {
  if (fs_.exists(path)) return false;
  prepare_directory(std::string(path_dirname(path)));
  fs_.write_file_atomically(path, "", 0644);
  return true;
}

Placement OutputWriter::link_to(const std::string& twin, const std::string& path) {
  if (fs_.same_file(twin, path)) return Placement::AlreadyLinked;
  fs_.link_file_atomically(twin, path);
  return Placement::Linked;
}

void OutputWriter::prepare_directory(const std::string& directory) {
  auto [it, first] = directory_errors_.emplace(directory, std::string());
  if (first) {
    try {
      fs_.make_directories(directory);
    } catch (const FileError& e) {
      it->second = e.what();
    }
  }
  if (!it->second.empty()) throw FileError(it->second);
}

}  // namespace pycemit
