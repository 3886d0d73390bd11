// What pycemit knows about a target interpreter, and the version facts derived
// from it (magic number, cache tag, source-hash variant, marshal version).
//
// The interpreter itself is the source of truth: its handshake reports
// importlib.util.MAGIC_NUMBER, sys.implementation.cache_tag and marshal.version
// (see interpreter_pool.h). The table here only checks those answers and picks the
// SipHash variant (docs/pyc-format.md, sections 2-3).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace pycemit {

// The interpreter cannot be used: missing, not executable, not CPython >= 3.8,
// unknown magic number, failed handshake, or a source-hash self-check mismatch.
// The message is one line naming the interpreter. Exit status 3.
class InterpreterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// SipHash parameters of importlib.util.source_hash (Python/pyhash.c,
// _Py_KeyedHash): SipHash-2-4 for CPython 3.8-3.10, SipHash-1-3 from 3.11 (bpo-29410).
struct SipHashRounds {
  int compression;   // c-rounds
  int finalization;  // d-rounds
  bool operator==(const SipHashRounds&) const = default;
};

// Facts about one target interpreter, as reported by its handshake.
struct InterpreterInfo {
  std::string executable;       // absolute path pycemit runs (argument of --python, resolved)
  std::string implementation;   // sys.implementation.name, "cpython"
  int major = 0, minor = 0, micro = 0;
  std::string cache_tag;        // sys.implementation.cache_tag, e.g. "cpython-312"
  std::array<std::uint8_t, 4> magic{};  // importlib.util.MAGIC_NUMBER: uint16 LE + "\r\n"
  int marshal_version = 0;      // marshal.version: 4 for 3.8-3.13, 5 for 3.14

  // The magic number as an integer (the first two bytes, little-endian).
  std::uint16_t magic_number() const { return static_cast<std::uint16_t>(magic[0] | (magic[1] << 8)); }
  std::string version_string() const;  // "3.12.1"
};

// The released magic number of CPython 3.<minor> (Lib/importlib/_bootstrap_external.py),
// or nullopt for a minor version pycemit does not know (outside 3.8-3.14).
std::optional<std::uint16_t> known_magic_number(int minor);

// The CPython minor version a released magic number belongs to (3413 -> 8), or nullopt.
std::optional<int> minor_for_magic_number(std::uint16_t magic);

// The source-hash SipHash variant for CPython 3.<minor>.
SipHashRounds source_hash_rounds(int minor);

// Checks that `info` describes an interpreter pycemit can compile for: CPython,
// version 3.8-3.14, its magic number equal to the released one for its version,
// "\r\n" after it, and the marshal version 4 (3.8-3.13) or 5 (3.14).
// Throws InterpreterError with a message naming what is wrong.
void validate_interpreter(const InterpreterInfo& info);

}  // namespace pycemit
