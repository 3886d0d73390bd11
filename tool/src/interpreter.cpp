#include "pycemit/interpreter.h"

#include <utility>

namespace pycemit {
namespace {

// Released magic numbers (reference section 1). Point releases never change them.
constexpr std::pair<int, std::uint16_t> kMagicNumbers[] = {
    {8, 3413}, {9, 3425}, {10, 3439}, {11, 3495}, {12, 3531}, {13, 3571}, {14, 3627},
};

}  // namespace

std::string InterpreterInfo::version_string() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(micro);
}

std::optional<std::uint16_t> known_magic_number(int minor) {
  for (auto [m, magic] : kMagicNumbers) {
    if (m == minor) return magic;
  }
  return std::nullopt;
}

std::optional<int> minor_for_magic_number(std::uint16_t magic) {
  for (auto [m, known] : kMagicNumbers) {
    if (known == magic) return m;
  }
  return std::nullopt;
}

SipHashRounds source_hash_rounds(int minor) {
  return minor <= 10 ? SipHashRounds{2, 4} : SipHashRounds{1, 3};
}

void validate_interpreter(const InterpreterInfo& info) {
  const std::string who = info.executable + " is " + info.implementation + " " + info.version_string();
  if (info.implementation != "cpython") {
    throw InterpreterError(who + ", not CPython: pycemit writes pycs for CPython 3.8 or later");
  }
  if (info.major != 3 || info.minor < 8) {
    throw InterpreterError(who + ": pycemit writes pycs for CPython 3.8 or later");
  }
  auto expected = known_magic_number(info.minor);
  if (!expected) {
    throw InterpreterError(who + ": this pycemit knows CPython 3.8 to 3.14 only");
  }
  if (info.magic_number() != *expected || info.magic[2] != '\r' || info.magic[3] != '\n') {
    throw InterpreterError(who + " but reports magic number " + std::to_string(info.magic_number()) +
                           ", not the released " + std::to_string(*expected) +
                           " (a pre-release or patched interpreter?)");
  }
  const int expected_marshal = info.minor >= 14 ? 5 : 4;
  if (info.marshal_version != expected_marshal) {
    throw InterpreterError(who + " but reports marshal version " + std::to_string(info.marshal_version) +
                           ", expected " + std::to_string(expected_marshal));
  }
}

}  // namespace pycemit
