// What a run is told about the compile cache (docs/cache.md): a local
// directory, a remote HTTP cache, or both. Plain data, filled by the command
// line over the environment; compile_cache.h does the work.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pycemit {

// A remote cache spoken to with plain HTTP: GET and PUT of <url>/<key>.
struct RemoteCacheSettings {
  std::string url;         // http:// or https://, without a trailing '/' and without user:password@
  bool read_only = false;  // never PUT (untrusted clients)
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds transfer_timeout{10000};  // per request, connecting included
  std::optional<std::string> bearer_token;            // "Authorization: Bearer <token>"
  std::optional<std::string> basic_auth;              // "user:password", HTTP basic authentication
  int parallel = 16;                                  // transfers at once (and connections kept alive)
};

struct CompileCacheOptions {
  std::optional<std::string> directory;              // the local cache; unset: none
  std::uint64_t max_bytes = std::uint64_t{1} << 30;  // the local cache's size limit, bytes
  std::optional<RemoteCacheSettings> remote;         // unset: none

  bool enabled() const { return directory.has_value() || remote.has_value(); }
};

// The cache options the environment gives every command that compiles:
//   PYCEMIT_COMPILE_CACHE=DIR              the local cache
//   PYCEMIT_COMPILE_CACHE_MAX_SIZE=SIZE    its size limit (parse_size)
//   PYCEMIT_REMOTE_CACHE=URL               the remote cache
//   PYCEMIT_REMOTE_CACHE_READ_ONLY=1       never store to it ("0", "" or unset: store)
//   PYCEMIT_REMOTE_CACHE_TOKEN=TOKEN       a bearer token
//   PYCEMIT_REMOTE_CACHE_BASIC_AUTH=U:P    a basic-authentication credential
// Empty variables count as unset. Throws PlanError for a bad size or URL.
CompileCacheOptions compile_cache_options_from_environment();

// The remote cache settings of those variables (url empty when
// PYCEMIT_REMOTE_CACHE is unset): a --remote-cache URL on the command line
// still takes its credentials and read-only flag from the environment.
RemoteCacheSettings remote_cache_settings_from_environment();

// A size in bytes: digits with an optional suffix K, M, G or T (powers of
// 1024, an optional "iB" or "B" after it), e.g. "500M", "2GiB", "1048576".
// Throws PlanError naming `what` (the option) for anything else or for 0.
std::uint64_t parse_size(std::string_view text, std::string_view what);

// Checks a remote cache URL and returns it without trailing '/': http or
// https, a host, no user:password@ (credentials come from a file or the
// environment, never from a command line that `ps` shows). Throws PlanError.
std::string checked_remote_cache_url(std::string_view url);

// The first line of the credential file `path`, without trailing white space.
// Throws PlanError when it cannot be read or is empty.
std::string read_credential_file(const std::string& path);

}  // namespace pycemit
