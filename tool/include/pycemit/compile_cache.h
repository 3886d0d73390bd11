// The compile cache as a run uses it (docs/cache.md): the local directory
// (local_compile_cache.h) in front, the remote (remote_cache.h) behind it,
// every entry checked before it is served (compile_cache_entry.h).
//
// The remote is an accelerator only: its first failure of any kind (down,
// slow, an unexpected status, a truncated or bad answer) prints one warning
// and the rest of the run does not ask it again; the sources are compiled.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pycemit/compile_cache_options.h"
#include "pycemit/local_compile_cache.h"
#include "pycemit/marshal.h"
#include "pycemit/remote_cache.h"
#include "pycemit/reporter.h"
#include "pycemit/run_record.h"

namespace pycemit {

// One output to look up: its key and the co_filename its entry must have.
struct CacheQuery {
  std::string key;
  std::string embedded_path;  // file-system bytes
};

class CompileCache {
 public:
  // Opens the local cache (LocalCompileCache: throws PlanError, FileError) and
  // the remote (make_remote_cache: throws PlanError) that `options` name.
  // Entries are checked for `layout`, local ones on up to `threads` threads;
  // counts go to `stats`, the one warning to `reporter`; both outlive the cache.
  CompileCache(const CompileCacheOptions& options, marshal::CodeLayout layout, Reporter& reporter, CompileStats& stats,
               int threads);

  // The checked entry for each query, or nullopt: the local cache first, then
  // one parallel round of remote requests for what it lacks (a remote hit is
  // stored locally). A bad entry is a miss, and is deleted (local) or stops
  // the remote at once (remote).
  std::vector<std::optional<std::string>> lookup(const std::vector<CacheQuery>& queries);

  // Stores a compiled entry: locally now, remotely in the next batch of PUTs
  // (unless read-only). A local store that fails warns once and stops local
  // stores for the run.
  void store(const std::string& key, std::string entry);

  // Sends the PUTs still queued and, when this run stored entries and the
  // local cache is over its limit, trims it to 90% of the limit.
  void finish();

 private:
  void flush();
  void stop_remote(const std::string& why);
  void store_locally(const std::string& key, std::string_view entry);

  const CompileCacheOptions& options_;
  marshal::CodeLayout layout_;
  Reporter& reporter_;
  CompileStats& stats_;
  int threads_;
  std::unique_ptr<LocalCompileCache> local_;
  std::unique_ptr<RemoteCache> remote_;
  std::vector<std::pair<std::string, std::string>> queued_;  // remote stores not sent yet
  bool stored_locally_ = false;                              // this run stored an entry locally
  bool local_stores_stopped_ = false;                        // a local store failed: no more
};

}  // namespace pycemit
