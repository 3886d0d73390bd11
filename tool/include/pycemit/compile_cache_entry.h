// The compile cache's entries (docs/cache.md): what a key is made of, and the
// checks an entry passes before it becomes a pyc.
//
// A pyc is a pure function of the source bytes, the interpreter, the
// optimization level and the embedded path (co_filename); pycemit's canonical
// marshal form removes everything else (docs/pyc-format.md, section 7). The
// key names exactly those inputs; the value is the canonical marshal body (the
// pyc without its 16-byte header, which is computed locally for each
// invalidation mode, so one entry serves them all).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "pycemit/interpreter.h"
#include "pycemit/marshal.h"

namespace pycemit {

// The version of the key encoding and of the entry format. Raise it when
// either changes.
constexpr int kCompileCacheFormatVersion = 1;

// The largest entry read or stored, bytes: far above any real pyc (CPython's
// largest standard-library pyc is under 1 MiB), a bound on what a hostile
// server can make pycemit hold.
constexpr std::size_t kMaxCompileCacheEntryBytes = std::size_t{64} << 20;

// The text whose SHA-256 is the key: one "name value" line per input, each
// ending in '\n', in this order (docs/cache.md, "The key"):
//   pycemit compile cache
//   cache-format 1
//   canonical-marshal <marshal::kCanonicalFormatVersion>
//   implementation <sys.implementation.name>
//   version <major>.<minor>.<micro> <releaselevel> <serial>
//   implementation-version <sys.implementation.version: major.minor.micro>
//   free-threaded <0|1>
//   cache-tag <sys.implementation.cache_tag, or None>
//   magic-number <the magic number, decimal>
//   marshal-version <marshal.version>
//   optimization-level <0|1|2>
//   embedded-path <length in bytes> <the co_filename bytes, as compiled>
//   source-sha256 <lowercase hex SHA-256 of the source file's bytes>
// `embedded_path` is the file-system bytes given to compile() (compiler.h);
// its length prefix keeps a path holding '\n' unambiguous.
std::string compile_cache_key_text(const InterpreterInfo& interpreter, int optimize, std::string_view embedded_path,
                                   std::string_view source_sha256_hex);

// The key: lowercase hex SHA-256 of compile_cache_key_text (64 characters).
std::string compile_cache_key(const InterpreterInfo& interpreter, int optimize, std::string_view embedded_path,
                              std::string_view source_sha256_hex);

// Why `entry` must not become a pyc, or nullopt when it may: larger than
// kMaxCompileCacheEntryBytes, not one marshal object of `layout`, not a code
// object, not in canonical form, or a top-level co_filename other than
// `embedded_path` (file-system bytes, as in the key). The checks of
// marshal::inspect_body; nothing here executes or trusts the bytes.
std::optional<std::string> compile_cache_entry_problem(std::string_view entry, marshal::CodeLayout layout,
                                                       std::string_view embedded_path);

}  // namespace pycemit
