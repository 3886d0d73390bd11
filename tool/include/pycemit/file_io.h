// File access for the write stage: atomic replacement, directories, hardlinks,
// and leftovers of killed runs. Paths are POSIX byte strings.
//
// Atomicity (as importlib's _write_atomic in Lib/importlib/_bootstrap_external.py):
// bytes go to a temporary file "<name>.<random>.pycemit-tmp" in the output's
// own directory, which is then renamed over the output. Readers see the old file
// or the new one, never a part; a failed write removes its temporary file and
// leaves the old output as it was. The writer holds an flock on its temporary
// file until the rename, so a run killed with SIGKILL leaves an unlocked one,
// which the next run that plans outputs in that directory removes
// (remove_stale_temporaries), whatever PID namespace either ran in.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pycemit {

// A file operation failed. what() is one line: "<path>: <reason>".
class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The whole content of the regular file at `path` (following symlinks), as of
// its size when opened. `st`, if given, receives the open file's stat, so that
// the bytes and the stat describe the same file. Throws FileError if it cannot
// be opened or read, or is not a regular file.
std::string read_file(const std::string& path, struct stat* st = nullptr);

// The content of an existing output: a regular file at `path`, not reached
// through a symlink. nullopt when missing, a symlink, not regular or unreadable.
std::optional<std::string> read_output_file(const std::string& path);

// At most the first `limit` bytes of `path`, or nullopt if it does not exist or
// cannot be read. Never throws.
std::optional<std::string> read_file_prefix(const std::string& path, std::size_t limit);

// The pyc mode importlib uses for a source with mode `source_mode`:
// (source_mode | 0o200) & 0o666 (the umask applies on creation, as in importlib).
mode_t pyc_mode_for_source(mode_t source_mode);

// Refuses an output path that exists and is not a regular file (a symlink, a
// directory, a device...). Throws FileError naming what is there.
void refuse_non_regular_output(const std::string& path);

// Replaces (or creates) `path` with `bytes`, atomically; the new file gets
// `mode` & ~umask. The directory must exist. Throws FileError (the old file, if
// any, is untouched; the temporary file is removed).
void write_file_atomically(const std::string& path, std::string_view bytes, mode_t mode);

// Makes `path` a hardlink to `existing`, replacing what is at `path` atomically.
// Throws FileError (e.g. EXDEV, EMLINK); the caller may fall back to a copy.
void link_file_atomically(const std::string& existing, const std::string& path);

// Creates `path` and its missing parents (mode 0777 & ~umask, as importlib does
// for __pycache__). Throws FileError if a component exists and is not a
// directory, or cannot be created.
void make_directories(const std::string& path);

// Removes the "*.pycemit-tmp" files in `directory` that no live writer holds
// locked (a run killed before its rename). Never throws; returns how many were
// removed.
int remove_stale_temporaries(const std::string& directory);

// lstat() as an optional.
std::optional<struct stat> lstat_path(const std::string& path);
// stat() (following symlinks) as an optional.
std::optional<struct stat> stat_path(const std::string& path);

}  // namespace pycemit
