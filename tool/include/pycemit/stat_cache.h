// The stat cache: which sources had all their outputs current at the end of a
// run, with the identity of every file involved, so that a rerun with nothing
// changed reads no file at all (Ninja's model: stat, compare, done).
//
// Identity is (st_dev, st_ino, st_size, st_mtim, st_ctim). Every write to a
// file changes its ctime, and ctime cannot be set from user space, so an
// unchanged identity means unchanged content, but for one case: two writes
// within one tick of the file system's clock. As git does for its index
// ("racy git"), a file that was read (a source, an output found current) is
// recorded only when its mtime and ctime are older than the run's start by
// more than that granularity; otherwise it is scanned in full next time.
// Outputs this run wrote are recorded by their identity right after the write:
// the cache assumes pycs are replaced (rename), as every writer of pycs does,
// not edited in place within a clock tick of being written.
//
// One cache file per run context: everything besides the sources that decides
// the outputs' names and bytes (interpreter, mode, levels, layout, roots, embed
// prefix, the PATH arguments, the canonical format's version), hashed into the
// file name in pycemit's cache directory (cache_directory.h). It only
// accelerates: a missing, unreadable or corrupt cache, or one that cannot be
// written, means the files are scanned in full, exactly as without it.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pycemit/interpreter.h"
#include "pycemit/plan.h"
#include "pycemit/run_options.h"

namespace pycemit {

struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int64_t size = 0;      // bytes
  std::int64_t mtime_ns = 0;  // nanoseconds since the epoch
  std::int64_t ctime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};

// The identity in a stat result.
FileIdentity identity_of(const struct stat& st);

// The identity of `path`, following a final symlink (stat) or not (lstat);
// nullopt if it does not exist.
std::optional<FileIdentity> identity_of(const std::string& path, bool follow_symlinks);

// A run's context, as described above: the interpreter (path, cache tag,
// magic number), the mode, layout and levels, every root, the embed prefix,
// whether levels are hardlinked, the PATH arguments made absolute, and the
// canonical form's version, one per line. Runs that share it share a cache file.
std::string stat_cache_context(const CompileOptions& options, const Locations& locations,
                               const InterpreterInfo& interpreter);

class StatCache {
 public:
  // Identities at least this close to the run's start are never recorded.
  static constexpr std::int64_t kRacyWindowNs = 50'000'000;           // 50 ms: kernel clock ticks
  static constexpr std::int64_t kCoarseRacyWindowNs = 2'000'000'000;  // file systems with whole seconds

  // The cache of `context` (any text; it is hashed into the file name), empty
  // until load(). The run starts now.
  explicit StatCache(const std::string& context);

  // Reads this context's cache file, if any. Never throws.
  void load();

  // Whether `source` was recorded with exactly these outputs (paths, in order)
  // and no file has changed since: the source's identity (stat) and every
  // output's (lstat) equal the recorded ones. Thread-safe (read-only).
  bool unchanged(const std::string& source, const std::vector<std::string>& outputs) const;

  // Keeps the entry of `source` found unchanged(), for the next run.
  void keep(const std::string& source);

  // Records that `source`, whose identity was `source_identity` when it was
  // read, has exactly `outputs`, all current now; `written[k]` says whether
  // this run wrote outputs[k]. Identities are taken now (lstat). Nothing is
  // recorded when an identity is racy or an output is missing.
  void record(const std::string& source, const FileIdentity& source_identity, const std::vector<std::string>& outputs,
              const std::vector<bool>& written);

  // Writes the entries kept and recorded in this run, atomically, if they
  // differ from what load() read. Never throws.
  void save() const;

  const std::string& path() const { return path_; }  // empty without a cache directory

 private:
  struct Entry {
    FileIdentity source;
    std::vector<std::pair<std::string, FileIdentity>> outputs;
    bool operator==(const Entry&) const = default;
  };
  bool racy(const FileIdentity& id) const;

  std::string path_;
  std::int64_t run_start_ns_;
  std::unordered_map<std::string, Entry> loaded_;
  std::unordered_map<std::string, Entry> current_;
};

}  // namespace pycemit
