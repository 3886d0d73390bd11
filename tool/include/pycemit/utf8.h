// One rule for well-formed UTF-8 (the Unicode Standard, table 3-7): the
// shortest form of a code point up to U+10FFFF. CPython's UTF-8 decoder
// follows it (Objects/stringlib/codecs.h); its "surrogatepass" error handler,
// which marshal uses for str objects (Python/marshal.c), also accepts the
// encoded surrogates U+D800..U+DFFF (ED A0..BF xx). Header-only, so that the
// marshal library can use it without the rest of pycemit.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pycemit {

enum class Surrogates {
  Reject,  // strict UTF-8: what os.fsdecode() decodes without surrogateescape
  Accept,  // "surrogatepass": what marshal reads and writes
};

// The length (1 to 4) of the well-formed sequence at the start of `s`, or 0
// when `s` is empty or does not start with one.
inline std::size_t utf8_sequence_length(std::string_view s, Surrogates surrogates) {
  if (s.empty()) return 0;
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char second_min = 0x80, second_max = 0xBF;  // the allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;                                      // overlong
    if (lead == 0xED && surrogates == Surrogates::Reject) second_max = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // overlong
    if (lead == 0xF4) second_max = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < length || byte(1) < second_min || byte(1) > second_max) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
  }
  return length;
}

// The UTF-8 bytes marshal writes for os.fsdecode(path): valid UTF-8 passes
// through; every other byte b becomes the lone surrogate U+DC00+b (Python's
// surrogateescape), encoded as UTF-8 with surrogatepass, as marshal does.
inline std::string fsdecoded_utf8(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  while (!path.empty()) {
    const std::size_t n = utf8_sequence_length(path, Surrogates::Reject);
    if (n > 0) {
      out.append(path.substr(0, n));
      path.remove_prefix(n);
      continue;
    }
    const unsigned code = 0xDC00 + static_cast<unsigned char>(path[0]);  // U+DC80..U+DCFF
    out.push_back(static_cast<char>(0xE0 | (code >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    path.remove_prefix(1);
  }
  return out;
}

}  // namespace pycemit
