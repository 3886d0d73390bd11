#include "pycemit/interpreter_protocol.h"

#include <charconv>

#include "pycemit/little_endian.h"

namespace pycemit::protocol {
namespace {

bool known_kind(char kind) {
  return kind == kHello || kind == kRefused || kind == kCompile || kind == kDump || kind == kVerify ||
         kind == kCompiled || kind == kFailed;
}

}  // namespace

std::string encode_frame(char kind, const std::vector<std::string_view>& fields) {
  std::size_t payload = 1;
  for (auto f : fields) payload += 4 + f.size();
  std::string out;
  out.reserve(4 + payload);
  append_le(out, static_cast<std::uint32_t>(payload));
  out.push_back(kind);
  for (auto f : fields) {
    append_le(out, static_cast<std::uint32_t>(f.size()));
    out.append(f);
  }
  return out;
}

void FrameReader::feed(std::string_view bytes) {
  if (consumed_ > 0 && consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

std::optional<Frame> FrameReader::next() {
  const std::string_view pending = std::string_view(buffer_).substr(consumed_);
  if (pending.size() < 4) return std::nullopt;
  const std::uint32_t length = read_le<std::uint32_t>(pending, 0);
  if (length == 0 || length > kMaxPayload) {
    throw ProtocolError("bad frame length " + std::to_string(length));
  }
  if (pending.size() > 4 && !known_kind(pending[4])) {
    throw ProtocolError("unknown message kind " + std::to_string(static_cast<unsigned char>(pending[4])));
  }
  if (pending.size() < 4 + std::size_t{length}) return std::nullopt;

  const std::string_view payload = pending.substr(4, length);
  Frame frame;
  frame.kind = payload[0];
  std::size_t pos = 1;
  while (pos < payload.size()) {
    if (payload.size() - pos < 4) throw ProtocolError("truncated field length");
    const std::uint32_t n = read_le<std::uint32_t>(payload, pos);
    pos += 4;
    if (n > payload.size() - pos) throw ProtocolError("field overruns its frame");
    frame.fields.emplace_back(payload.substr(pos, n));
    pos += n;
  }
  consumed_ += 4 + length;
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  }
  return frame;
}

long long parse_int_field(std::string_view field) {
  long long value = 0;
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec != std::errc() || end != field.data() + field.size() || field.empty()) {
    throw ProtocolError("expected an integer field, got '" + std::string(field.substr(0, 32)) + "'");
  }
  return value;
}

}  // namespace pycemit::protocol
