#include "pycemit/freshness.h"

#include <algorithm>
#include <stdexcept>

#include "pycemit/file_io.h"
#include "pycemit/source_hash.h"
#include "pycemit/utf8.h"

namespace pycemit {
namespace {

// "3531 (CPython 3.12)": a magic number, with the release it belongs to when known.
std::string describe_magic(const std::array<std::uint8_t, 4>& magic) {
  const auto number = static_cast<std::uint16_t>(magic[0] | (magic[1] << 8));
  std::string text = std::to_string(number);
  if (magic[2] != '\r' || magic[3] != '\n') return text + " (not followed by \\r\\n)";
  if (const auto format = format_for_magic_number(number); format && format->exact) {
    text += std::string(" (") + (format->format->implementation == "pypy" ? "PyPy" : "CPython") + " 3." +
            std::to_string(format->format->minor) + ")";
  }
  return text;
}

// Why the pyc header `data` starts with is not `expected`.
std::string header_difference(std::string_view data, const PycHeaderBytes& expected) {
  if (data.size() < kPycHeaderSize) {
    return "not a pyc: " + std::to_string(data.size()) + " bytes, shorter than the 16-byte header";
  }
  const PycHeader want = decode_header(as_chars(expected));
  PycHeader have;
  try {
    have = decode_header(data);
  } catch (const std::runtime_error& e) {
    return std::string("a header import rejects: ") + e.what();
  }
  if (have.magic != want.magic) {
    return "magic number " + describe_magic(have.magic) + ", expected " + describe_magic(want.magic);
  }
  if (have.mode != want.mode) return "invalidation mode " + to_string(have.mode) + ", expected " + to_string(want.mode);
  if (want.stamp) {
    return "source mtime or size differs: has " + std::to_string(have.stamp->mtime) + " and " +
           std::to_string(have.stamp->size) + ", expected " + std::to_string(want.stamp->mtime) + " and " +
           std::to_string(want.stamp->size);
  }
  return "source hash differs (the source changed since it was compiled)";
}

// Why there is no usable file at `path` (read_output_file found none).
std::string why_missing(const std::string& path) {
  const auto st = lstat_path(path);
  if (!st) return "no file";
  if (S_ISLNK(st->st_mode)) return "a symlink (pycemit never writes through one)";
  if (!S_ISREG(st->st_mode)) return "not a regular file";
  return "cannot be read";
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

OutputInspection inspect_output(const std::string& pyc_path, const PycHeaderBytes& header,
                                std::string_view embedded_path, marshal::CodeLayout layout) {
  using State = OutputState;
  const auto data = read_output_file(pyc_path);
  if (!data) return {State::Missing, why_missing(pyc_path)};
  if (std::string_view(*data).substr(0, kPycHeaderSize) != as_chars(header)) {
    return {State::Stale, header_difference(*data, header)};
  }
  try {
    const auto body = marshal::inspect_body(std::string_view(*data).substr(kPycHeaderSize), layout);
    const std::string expected = fsdecoded_utf8(embedded_path);
    if (body.code_filename != expected) {
      return {State::Stale, "embedded path differs: has '" + body.code_filename + "', expected '" + expected + "'"};
    }
    if (!body.canonical) {
      return {State::NotCanonical,
              "not in canonical form (FLAG_REF bits, set order or interning as CPython's marshal "
              "left them)"};
    }
    return {State::Current, ""};
  } catch (const marshal::MarshalError& e) {
    return {State::Stale, std::string("not readable as a pyc body: ") + e.what()};
  }
}

OutputState output_state(const std::string& pyc_path, const PycHeaderBytes& header, std::string_view embedded_path,
                         marshal::CodeLayout layout) {
  return inspect_output(pyc_path, header, embedded_path, layout).state;
}

}  // namespace pycemit
