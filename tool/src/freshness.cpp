#include "pycemit/freshness.h"

#include <algorithm>

#include "pycemit/file_io.h"
#include "pycemit/source_hash.h"
#include "pycemit/utf8.h"

namespace pycemit {

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
