#include "pycemit/compile_cache.h"

#include "pycemit/compile_cache_entry.h"
#include "pycemit/file_io.h"
#include "pycemit/parallel.h"

namespace pycemit {
namespace {

// Remote stores sent together: enough to keep the parallel transfers busy.
constexpr std::size_t kStoreBatch = 64;

}  // namespace

CompileCache::CompileCache(const CompileCacheOptions& options, marshal::CodeLayout layout, Reporter& reporter,
                           CompileStats& stats, int threads)
    : options_(options), layout_(layout), reporter_(reporter), stats_(stats), threads_(threads) {
  if (options_.directory) local_ = std::make_unique<LocalCompileCache>(*options_.directory);
  if (options_.remote) remote_ = make_remote_cache(*options_.remote);
}

std::vector<std::optional<std::string>> CompileCache::lookup(const std::vector<CacheQuery>& queries) {
  std::vector<std::optional<std::string>> found(queries.size());
  stats_.cache_lookups += queries.size();
  // Local entries are read and checked on every core: the check walks the
  // whole entry, the costliest part of a run that only hits.
  enum class Local : char { None, Hit, Dropped };
  std::vector<Local> local(queries.size(), Local::None);
  if (local_) {
    parallel_for(queries.size(), threads_, [&](std::size_t i) {
      std::optional<std::string> entry = local_->load(queries[i].key);
      if (!entry) return;
      if (compile_cache_entry_problem(*entry, layout_, queries[i].embedded_path)) {
        local_->drop(queries[i].key);
        local[i] = Local::Dropped;
        return;
      }
      found[i] = std::move(entry);
      local[i] = Local::Hit;
    });
  }
  std::vector<std::size_t> missing;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    if (local[i] == Local::Dropped) ++stats_.cache_dropped;
    if (local[i] == Local::Hit) {
      ++stats_.cache_hits;
    } else {
      missing.push_back(i);
    }
  }
  if (remote_ && !missing.empty()) {
    std::vector<std::string> keys;
    for (std::size_t i : missing) keys.push_back(queries[i].key);
    try {
      remote_->fetch(keys, [&](std::size_t j, std::string body) -> std::optional<std::string> {
        const CacheQuery& q = queries[missing[j]];
        if (auto problem = compile_cache_entry_problem(body, layout_, q.embedded_path)) {
          ++stats_.cache_dropped;
          return problem;
        }
        ++stats_.remote_hits;
        store_locally(q.key, body);
        found[missing[j]] = std::move(body);
        return std::nullopt;
      });
    } catch (const RemoteCacheError& e) {
      stop_remote(e.what());
    }
  }
  for (const auto& f : found) {
    if (!f) ++stats_.cache_misses;
  }
  return found;
}

void CompileCache::store(const std::string& key, std::string entry) {
  store_locally(key, entry);
  if (remote_ && !options_.remote->read_only) {
    queued_.emplace_back(key, std::move(entry));
    if (queued_.size() >= kStoreBatch) flush();
  }
}

void CompileCache::store_locally(const std::string& key, std::string_view entry) {
  if (!local_ || local_stores_stopped_) return;
  try {
    local_->store(key, entry);
    ++stats_.cache_stores;
    stored_locally_ = true;
  } catch (const FileError& e) {
    reporter_.warning("pycemit: warning: compile cache " + local_->directory() +
                      ": no more entries stored in this run: " + e.what());
    local_stores_stopped_ = true;
  }
}

void CompileCache::flush() {
  if (!remote_ || queued_.empty()) return;
  try {
    remote_->store(queued_);
    stats_.remote_stores += queued_.size();
  } catch (const RemoteCacheError& e) {
    stop_remote(e.what());
  }
  queued_.clear();
}

void CompileCache::finish() {
  flush();
  if (local_ && stored_locally_ && local_->usage().bytes > options_.max_bytes) {
    local_->trim(options_.max_bytes / 10 * 9);
  }
}

void CompileCache::stop_remote(const std::string& why) {
  reporter_.warning("pycemit: warning: remote cache " + options_.remote->url +
                    " not used for the rest of this run: " + why);
  stats_.remote_disabled = true;
  remote_.reset();
  queued_.clear();
}

}  // namespace pycemit
