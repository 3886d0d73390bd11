// The 16-byte pyc header (PEP 552; Lib/importlib/_bootstrap_external.py,
// _code_to_timestamp_pyc / _code_to_hash_pyc / _classify_pyc).
//
//   offset 0  4 bytes  magic number (uint16 LE + "\r\n")
//   offset 4  4 bytes  flags, uint32 LE: 0 timestamp, 1 unchecked-hash, 3 checked-hash
//   offset 8  8 bytes  timestamp mode: source mtime and size, two uint32 LE
//                      hash modes: the 8-byte source hash (source_hash.h)
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "pycemit/source_hash.h"

namespace pycemit {

// PEP 552 invalidation modes, named as py_compile.PycInvalidationMode.
enum class InvalidationMode { Timestamp, UncheckedHash, CheckedHash };

// Every mode, in the order above: what the command line accepts.
inline constexpr std::array<InvalidationMode, 3> kInvalidationModes{
    InvalidationMode::Timestamp, InvalidationMode::UncheckedHash, InvalidationMode::CheckedHash};

// "timestamp", "unchecked-hash", "checked-hash" (the CLI and compileall spelling).
std::string to_string(InvalidationMode mode);
// The inverse of to_string; also accepts '_' for '-' and upper case. nullopt if unknown.
std::optional<InvalidationMode> parse_invalidation_mode(std::string_view text);

constexpr std::size_t kPycHeaderSize = 16;
using PycHeaderBytes = std::array<std::uint8_t, kPycHeaderSize>;

// The header bytes as chars, for comparing with and appending to file data.
inline std::string_view as_chars(const PycHeaderBytes& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The source's stat fields a timestamp pyc records, already truncated the way
// importlib does: int(st_mtime) & 0xFFFFFFFF and st_size & 0xFFFFFFFF.
struct SourceStamp {
  std::uint32_t mtime = 0;
  std::uint32_t size = 0;
  bool operator==(const SourceStamp&) const = default;
};

// Truncates a stat time the way CPython does: st_mtime is the double
// `sec + nsec * 1e-9` (Modules/posixmodule.c, fill_time), int() truncates it
// toward zero, and the pyc keeps the low 32 bits. So -1.5 s gives 0xFFFFFFFF and
// a time just below a whole second may round up to it, exactly as in CPython.
// `size` is in bytes.
SourceStamp make_source_stamp(const timespec& mtime, std::uint64_t size);

// A decoded header. Exactly one of `stamp` (Timestamp) or `hash` (hash modes) is set.
struct PycHeader {
  std::array<std::uint8_t, 4> magic{};
  InvalidationMode mode = InvalidationMode::CheckedHash;
  std::optional<SourceStamp> stamp;
  std::optional<SourceHash> hash;
  bool operator==(const PycHeader&) const = default;
};

// The header bytes for `header`. Throws std::invalid_argument if the field for its
// mode is missing.
PycHeaderBytes encode_header(const PycHeader& header);

// Decodes the first 16 bytes of a pyc as importlib's _classify_pyc does: flags
// without bit 0 mean a timestamp pyc. Throws std::runtime_error when `data` is
// shorter than 16 bytes or has a flag bit above bit 1 (import rejects those).
PycHeader decode_header(std::string_view data);

}  // namespace pycemit
