#include "pycemit/interpreter.h"

#include <cstdlib>

#include "pycemit/source_hash.h"

namespace pycemit {
namespace {

using marshal::CodeLayout;

constexpr SipHashRounds kSipHash24{2, 4};
constexpr SipHashRounds kSipHash13{1, 3};

// Released formats (docs/pyc-format.md, sections 2, 3, 6 and 9). Point releases
// never change them; pre-releases may carry other magic numbers.
constexpr PycFormat kFormats[] = {
    {"cpython", 8, 3413, 4, CodeLayout::Py38, kSipHash24},   {"cpython", 9, 3425, 4, CodeLayout::Py38, kSipHash24},
    {"cpython", 10, 3439, 4, CodeLayout::Py38, kSipHash24},  {"cpython", 11, 3495, 4, CodeLayout::Py311, kSipHash13},
    {"cpython", 12, 3531, 4, CodeLayout::Py311, kSipHash13}, {"cpython", 13, 3571, 4, CodeLayout::Py311, kSipHash13},
    {"cpython", 14, 3627, 5, CodeLayout::Py311, kSipHash13}, {"cpython", 15, 3666, 6, CodeLayout::Py311, kSipHash13},
    {"pypy", 9, 336, 4, CodeLayout::Py38, kSipHash24},       {"pypy", 11, 432, 4, CodeLayout::PyPy311, kSipHash24},
};

// The CPython minor version whose magic-number range holds `magic`
// (Lib/importlib/_bootstrap_external.py's history; from 3.11 on, 3.<n> starts
// at 2900 + 50 * n), or 0 below 3.8's range.
int cpython_minor_for_magic_number(std::uint16_t magic) {
  if (magic < 3400) return 0;
  if (magic < 3420) return 8;
  if (magic < 3430) return 9;
  if (magic < 3450) return 10;
  return (magic - 2900) / 50;
}

// $PYCEMIT_TREAT_AS_UNKNOWN names `implementation`-3.<minor>.
bool treated_as_unknown(std::string_view implementation, int minor) {
  const char* list = std::getenv("PYCEMIT_TREAT_AS_UNKNOWN");
  if (!list) return false;
  const std::string wanted = std::string(implementation) + "-3." + std::to_string(minor);
  std::string_view rest = list;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    if (rest.substr(0, comma) == wanted) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

std::string pretty_implementation(std::string_view implementation) {
  if (implementation == "cpython") return "CPython";
  if (implementation == "pypy") return "PyPy";
  return std::string(implementation);
}

}  // namespace

std::string to_string(SipHashRounds rounds) {
  return "SipHash-" + std::to_string(rounds.compression) + "-" + std::to_string(rounds.finalization);
}

std::string to_string(marshal::CodeLayout layout) {
  switch (layout) {
    case CodeLayout::Py38: return "cpython-3.8";
    case CodeLayout::Py311: return "cpython-3.11";
    case CodeLayout::PyPy311: return "pypy-3.11";
  }
  return "?";
}

std::span<const PycFormat> known_formats() { return kFormats; }

const PycFormat* known_format(std::string_view implementation, int minor) {
  for (const PycFormat& f : kFormats) {
    if (f.implementation == implementation && f.minor == minor) return &f;
  }
  return nullptr;
}

const PycFormat* nearest_known_format(std::string_view implementation, int minor) {
  const PycFormat* below = nullptr;
  const PycFormat* oldest = nullptr;
  for (const PycFormat& f : kFormats) {
    if (f.implementation != implementation) continue;
    if (!oldest || f.minor < oldest->minor) oldest = &f;
    if (f.minor <= minor && (!below || f.minor > below->minor)) below = &f;
  }
  return below ? below : oldest;
}

std::optional<MagicNumberFormat> format_for_magic_number(std::uint16_t magic) {
  for (const PycFormat& f : kFormats) {
    if (f.magic_number == magic) return MagicNumberFormat{&f, true};
  }
  const int minor = cpython_minor_for_magic_number(magic);
  if (minor == 0) return std::nullopt;
  return MagicNumberFormat{nearest_known_format("cpython", minor), false};
}

std::string InterpreterInfo::version_string() const {
  std::string v = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(micro);
  if (release_level == "alpha") return v + "a" + std::to_string(serial);
  if (release_level == "beta") return v + "b" + std::to_string(serial);
  if (release_level == "candidate") return v + "rc" + std::to_string(serial);
  return v;
}

std::string InterpreterInfo::display_name() const {
  std::string name = pretty_implementation(implementation) + " ";
  if (implementation == "cpython" || implementation_version.empty()) {
    name += version_string();
  } else {
    name += implementation_version + " (Python " + version_string() + ")";
  }
  if (free_threaded) name += " (free-threaded)";
  return name;
}

const std::string& InterpreterInfo::require_cache_tag() const {
  if (!cache_tag) {
    throw InterpreterError(executable + " is " + display_name() +
                           " built without a cache tag (sys.implementation.cache_tag is None): it never imports "
                           "pycs from __pycache__ or a pycache prefix; use --layout sourceless");
  }
  return *cache_tag;
}

void decide_format(InterpreterInfo& info) {
  const std::string who = info.executable + " is " + info.display_name();
  if (info.implementation != "cpython" && info.implementation != "pypy") {
    throw InterpreterError(who + ": pycemit writes pycs for CPython and PyPy (Python 3.8 or later)");
  }
  if (info.major != 3 || info.minor < 8) {
    throw InterpreterError(who + ": pycemit writes pycs for Python 3.8 or later");
  }
  if (info.magic[2] != '\r' || info.magic[3] != '\n') {
    throw InterpreterError(who + " but its magic number does not end in \\r\\n: not a pyc format pycemit knows");
  }
  if (info.implementation == "cpython" && cpython_minor_for_magic_number(info.magic_number()) != info.minor) {
    throw InterpreterError(who + " but reports magic number " + std::to_string(info.magic_number()) +
                           ", outside the range of CPython 3." + std::to_string(info.minor) +
                           "'s magic numbers (a patched interpreter?)");
  }
  const PycFormat* known = known_format(info.implementation, info.minor);
  const PycFormat* base = known ? known : nearest_known_format(info.implementation, info.minor);
  info.code_layout = base->code_layout;

  // The hash variant is whichever reproduces the interpreter's own answers.
  const SipHashRounds other = base->hash_rounds == kSipHash13 ? kSipHash24 : kSipHash13;
  bool found = false;
  for (SipHashRounds rounds : {base->hash_rounds, other}) {
    bool all = true;
    for (const auto& [data, expected] : info.source_hashes) {
      const SourceHash h = source_hash(info.magic, rounds, data);
      all = all && std::string_view(reinterpret_cast<const char*>(h.data()), h.size()) == expected;
    }
    if (all) {
      info.hash_rounds = rounds;
      found = true;
      break;
    }
  }
  if (!found) {
    throw InterpreterError(who +
                           ": importlib.util.source_hash agrees with neither SipHash-1-3 nor SipHash-2-4 "
                           "keyed by its magic number; refusing to write hash-based pycs it would reject");
  }

  const std::string release = pretty_implementation(info.implementation) + " 3." + std::to_string(info.minor);
  info.known_format = false;
  if (!known) {
    info.format_note = "a version this pycemit does not know (it knows " + pretty_implementation(info.implementation) +
                       " 3." + std::to_string(base->minor) + " as the nearest)";
  } else if (info.magic_number() != known->magic_number) {
    info.format_note = "magic number " + std::to_string(info.magic_number()) + ", not " + release + "'s released " +
                       std::to_string(known->magic_number) + " (a pre-release?)";
  } else if (info.marshal_version != known->marshal_version) {
    info.format_note = "marshal version " + std::to_string(info.marshal_version) + ", not " + release + "'s " +
                       std::to_string(known->marshal_version);
  } else if (!(info.hash_rounds == known->hash_rounds)) {
    info.format_note = "its source hash is " + to_string(info.hash_rounds) + ", not " + release + "'s " +
                       to_string(known->hash_rounds);
  } else if (treated_as_unknown(info.implementation, info.minor)) {
    info.format_note = "treated as unknown ($PYCEMIT_TREAT_AS_UNKNOWN)";
  } else {
    info.known_format = true;
    info.format_note.clear();
  }
}

std::string unknown_format_warning(const InterpreterInfo& info) {
  return "pycemit: warning: " + info.display_name() + " (magic number " + std::to_string(info.magic_number()) +
         ", marshal version " + std::to_string(info.marshal_version) + ") is " + info.format_note +
         "; its pyc format passed pycemit's probe, and each pyc is verified by the interpreter (--no-verify skips "
         "that)";
}

}  // namespace pycemit
