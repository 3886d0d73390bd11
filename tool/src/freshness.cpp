#include "pycemit/freshness.h"

#include <algorithm>

#include "pycemit/file_io.h"
#include "pycemit/source_hash.h"

namespace pycemit {
namespace {

// Length of the valid UTF-8 sequence at the start of `s` (no surrogates, no
// overlong forms, at most U+10FFFF), or 0 if it is not one.
std::size_t valid_utf8_length(std::string_view s) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n || byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t i = 2; i < n; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

PycHeaderBytes expected_header(const InterpreterInfo& info, InvalidationMode mode, std::string_view source,
                               const struct stat& st) {
  PycHeader header;
  header.magic = info.magic;
  header.mode = mode;
  if (mode == InvalidationMode::Timestamp) {
    header.stamp = make_source_stamp(st.st_mtim, static_cast<std::uint64_t>(st.st_size));
  } else {
    header.hash = source_hash(info, source);
  }
  return encode_header(header);
}

std::string fsdecoded_utf8(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  while (!path.empty()) {
    const std::size_t n = valid_utf8_length(path);
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

OutputState output_state(const std::string& pyc_path, const PycHeaderBytes& header, std::string_view embedded_path,
                         marshal::CodeLayout layout) {
  const auto data = read_output_file(pyc_path);
  if (!data) return OutputState::Missing;
  if (std::string_view(*data).substr(0, kPycHeaderSize) != as_chars(header)) return OutputState::Stale;
  try {
    const auto body = marshal::inspect_body(std::string_view(*data).substr(kPycHeaderSize), layout);
    if (body.code_filename != fsdecoded_utf8(embedded_path)) return OutputState::Stale;
    return body.canonical ? OutputState::Current : OutputState::NotCanonical;
  } catch (const marshal::MarshalError&) {
    return OutputState::Stale;
  }
}

}  // namespace pycemit
