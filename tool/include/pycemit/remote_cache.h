// The compile cache over HTTP (docs/cache.md, "The remote cache"): GET
// <url>/<key> answers the entry (200) or a miss (404); PUT <url>/<key> stores
// one. That is all of the protocol ccache's and sccache's HTTP storage,
// Bazel's HTTP cache and bazel-remote speak, and what a WebDAV server (nginx's
// dav_methods PUT, Apache's mod_dav) serves.
//
// The implementation (tool/src/remote/http_remote_cache.cpp) uses libcurl's
// multi interface: up to RemoteCacheSettings::parallel transfers at once over
// connections kept alive for the run. The Bazel build of pycemit has no
// remote cache (tool/src/remote/no_remote_cache.cpp): Bazel's own remote cache
// serves its actions.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "pycemit/compile_cache_options.h"

namespace pycemit {

// The remote failed: it cannot be reached, took longer than a timeout,
// answered another status than the protocol's, or sent a truncated or
// oversized body. what() names the request and the reason.
class RemoteCacheError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RemoteCache {
 public:
  virtual ~RemoteCache() = default;

  // What to do with a 200 answer: `body` for keys[index]. Returns why the
  // body is bad (compile_cache_entry.h), or nullopt when it was taken.
  using Answer = std::function<std::optional<std::string>(std::size_t index, std::string body)>;

  // GETs every key (64 hex digits) in parallel, calling `answer` for each 200
  // answer (a body of at most kMaxCompileCacheEntryBytes) as it arrives; 404
  // is a miss. Throws RemoteCacheError at the first failure, a bad body
  // included: the transfers still running are abandoned, so a remote that
  // answers junk is not asked again.
  virtual void fetch(const std::vector<std::string>& keys, const Answer& answer) = 0;

  // PUTs every (key, entry) in parallel; any 2xx answer is success. Throws
  // RemoteCacheError at the first failure.
  virtual void store(const std::vector<std::pair<std::string, std::string>>& entries) = 0;
};

// A remote cache for `settings` (settings.url already checked by
// checked_remote_cache_url). Throws PlanError when this build of pycemit has
// no HTTP client.
std::unique_ptr<RemoteCache> make_remote_cache(const RemoteCacheSettings& settings);

}  // namespace pycemit
