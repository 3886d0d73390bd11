// The compile cache on disk (docs/cache.md, "The local cache"): one file per
// entry, named by its key, holding the entry's bytes and nothing else.
//
//   DIR/CACHEDIR.TAG                         (bford.ch/cachedir: backups skip DIR)
//   DIR/v1/<first two hex digits>/<key>      an entry
//   DIR/v1/<first two hex digits>/*.pycemit-tmp   an entry being written
//
// Entries are written to a temporary file and renamed into place
// (file_io.h, write_file_atomically), so a reader sees a whole entry or none,
// whatever runs share the directory and whenever one is killed. An entry's
// mtime is its last use: a hit sets it to now, and trim() removes the least
// recently used first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace pycemit {

struct LocalCacheUsage {
  std::size_t entries = 0;
  std::uint64_t bytes = 0;  // the entries' sizes (not the file system's blocks)
};

class LocalCompileCache {
 public:
  // Opens the cache at `directory`, creating it (mode 0755) and its v1
  // directory when missing. Throws PlanError when it must not be used: not a
  // directory, not owned by this user, or writable by group or others (its
  // v1 directory likewise): whoever can write a cache can put code into the
  // pycs made from it. Throws FileError when it cannot be created.
  explicit LocalCompileCache(std::string directory);

  const std::string& directory() const { return directory_; }

  // The entry for `key` (64 hex digits), or nullopt when there is none or it
  // cannot be read, or is larger than kMaxCompileCacheEntryBytes. Marks the
  // entry used. The caller checks the bytes (compile_cache_entry.h). load()
  // and drop() may run on several threads at once; store() may not.
  std::optional<std::string> load(const std::string& key);

  // Stores `entry` under `key`, replacing an existing one atomically; the
  // first store into a directory removes the temporaries killed writers left
  // there. Throws FileError (the cache is then unchanged).
  void store(const std::string& key, std::string_view entry);

  // Removes the entry for `key`, if any (a bad entry found by the caller).
  void drop(const std::string& key);

  // The entries and their total size, by reading every directory.
  LocalCacheUsage usage() const;

  // Removes the least recently used entries until the rest total at most
  // `max_bytes`, and temporaries left by killed writers. Returns what was removed.
  LocalCacheUsage trim(std::uint64_t max_bytes);

  // Removes every entry. Returns what was removed.
  LocalCacheUsage clear();

 private:
  std::string entry_path(const std::string& key) const;

  std::string directory_;
  std::string entries_;          // directory_ + "/v1"
  std::set<std::string> swept_;  // fan-out directories made and swept by this object
};

}  // namespace pycemit
