// What pycemit knows about a target interpreter, and how it decides the pyc
// format to write for it.
//
// The interpreter is the source of truth: its handshake (tool/bootstrap/compiler.py)
// reports importlib.util.MAGIC_NUMBER, sys.implementation.cache_tag, marshal.version,
// its version and build, and importlib.util.source_hash of probe strings. The
// table of known formats below only picks the source-hash variant and the
// marshal code-object layout, and flags an interpreter whose answers differ
// from the release it claims to be (a pre-release, or a version newer than this
// pycemit). Such an interpreter is not refused: its format is probed
// (format_probe.h) and its pycs are verified (docs/pyc-format.md, section 10).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pycemit/marshal.h"

namespace pycemit {

// The interpreter cannot be used: missing, not executable, neither CPython nor
// PyPy of Python 3.8 or later, a failed handshake or format probe, or a source
// hash pycemit cannot reproduce. The message is one line naming the
// interpreter. Exit status 3.
class InterpreterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// SipHash parameters of importlib.util.source_hash (Python/pyhash.c,
// _Py_KeyedHash): SipHash-2-4 for CPython 3.8-3.10 and for PyPy, SipHash-1-3
// for CPython from 3.11 (bpo-29410). docs/pyc-format.md, section 3.
struct SipHashRounds {
  int compression;   // c-rounds
  int finalization;  // d-rounds
  bool operator==(const SipHashRounds&) const = default;
};

// "SipHash-1-3".
std::string to_string(SipHashRounds rounds);

// "cpython-3.8" (the field list of CPython 3.8-3.10 and PyPy 3.9),
// "cpython-3.11" (CPython 3.11-3.15), "pypy-3.11".
std::string to_string(marshal::CodeLayout layout);

// The pyc format of one release line of one implementation, as released.
struct PycFormat {
  std::string_view implementation;  // sys.implementation.name: "cpython", "pypy"
  int minor = 0;                    // Python 3.<minor>
  std::uint16_t magic_number = 0;   // importlib.util.MAGIC_NUMBER of the release (first two bytes, LE)
  int marshal_version = 0;          // marshal.version
  marshal::CodeLayout code_layout = marshal::CodeLayout::Py311;
  SipHashRounds hash_rounds{1, 3};
};

// Every format this pycemit was built knowing, oldest first per implementation
// (docs/pyc-format.md, sections 2, 6 and 9): CPython 3.8-3.15, PyPy 3.9 and 3.11.
std::span<const PycFormat> known_formats();

// The known format of `implementation` 3.<minor>, or nullptr.
const PycFormat* known_format(std::string_view implementation, int minor);

// The format to try for an implementation 3.<minor> pycemit does not know:
// the known one of the nearest lower minor version (or the oldest known, below
// them all) of the same implementation, or nullptr for another implementation.
const PycFormat* nearest_known_format(std::string_view implementation, int minor);

// The format a pyc's magic number names, for reading pycs pycemit did not
// write (`canonicalize`): a released magic number gives its release
// (exact = true). Any other CPython magic number (>= 3400) gives the format of
// the version whose range holds it (3.11 and later start at 2900 + 50 * minor,
// Include/internal/pycore_magic_number.h; a pre-release), or the newest known
// one beyond them (exact = false). nullopt for anything else (an unknown PyPy
// magic number, or not a pyc).
struct MagicNumberFormat {
  const PycFormat* format = nullptr;
  bool exact = false;
};
std::optional<MagicNumberFormat> format_for_magic_number(std::uint16_t magic);

// Facts about one target interpreter, as reported by its handshake, and the
// format pycemit decided for it (decide_format).
struct InterpreterInfo {
  std::string executable;               // absolute path pycemit runs (argument of --python, resolved)
  std::string implementation;           // sys.implementation.name: "cpython", "pypy"
  int major = 0, minor = 0, micro = 0;  // sys.version_info
  std::string release_level = "final";  // sys.version_info.releaselevel: alpha, beta, candidate, final
  int serial = 0;                       // sys.version_info.serial
  std::string implementation_version;   // sys.implementation.version, "7.3.11" for PyPy
  // sys.implementation.cache_tag, e.g. "cpython-312", "pypy39"; nullopt when it
  // is None (a CPython 3.15 build option, gh-144278: no __pycache__ and no
  // pycache prefix, only sourceless pycs are imported).
  std::optional<std::string> cache_tag;
  std::array<std::uint8_t, 4> magic{};  // importlib.util.MAGIC_NUMBER: uint16 LE + "\r\n"
  int marshal_version = 0;              // marshal.version
  bool free_threaded = false;           // sysconfig's Py_GIL_DISABLED (3.13t and later)
  // (data, importlib.util.source_hash(data)) for the handshake's probe strings.
  std::vector<std::pair<std::string, std::string>> source_hashes;

  // Decided by decide_format:
  marshal::CodeLayout code_layout = marshal::CodeLayout::Py311;
  SipHashRounds hash_rounds{1, 3};
  // The facts match a known release exactly. When false, `format_note` says
  // what differs, and the format must pass the probe (format_probe.h) first.
  bool known_format = false;
  std::string format_note;
  bool format_probed = false;  // the probe passed (set by format_probe.h)

  // The magic number as an integer (the first two bytes, little-endian).
  std::uint16_t magic_number() const { return static_cast<std::uint16_t>(magic[0] | (magic[1] << 8)); }
  // "3.12.1"; a pre-release adds its level and serial: "3.16.0a1", "3.15.0rc2".
  std::string version_string() const;
  // "CPython 3.12.1", "PyPy 7.3.11 (Python 3.9.16)", "CPython 3.14.0 (free-threaded)".
  std::string display_name() const;
  // The cache tag, or throws InterpreterError explaining that this
  // interpreter has none and so only the sourceless layout can serve it.
  const std::string& require_cache_tag() const;
};

// Checks that `info`'s facts describe an interpreter pycemit can write pycs
// for, and decides its format: CPython or PyPy of Python 3.8 or later, a magic
// number ending in "\r\n" and, for CPython, within its minor version's range
// (see format_for_magic_number; a pre-release's number is, a patched one's
// need not be). The code layout and hash variant come from its
// known format, or else from nearest_known_format; the hash variant must
// reproduce every pair in info.source_hashes (SipHash-1-3 and SipHash-2-4 are
// both tried, the table's first). `known_format` is set when the implementation, minor version, magic
// number, marshal version and hash variant all equal a known release (and the
// release is not named in $PYCEMIT_TREAT_AS_UNKNOWN, a test seam: a
// comma-separated list such as "cpython-3.15,pypy-3.9").
// Throws InterpreterError naming the interpreter and what is wrong.
void decide_format(InterpreterInfo& info);

// The one-line warning for an interpreter whose format is not known
// (info.known_format false), naming its version and what differs.
std::string unknown_format_warning(const InterpreterInfo& info);

}  // namespace pycemit
