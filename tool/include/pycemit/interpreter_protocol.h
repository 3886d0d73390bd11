// The framed binary protocol between pycemit and its interpreter processes
// (the Python side is tool/bootstrap/compiler.py, which documents the messages).
//
//   frame   = u32 LE payload length, payload
//   payload = 1 byte kind, then fields; field = u32 LE length, bytes
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pycemit::protocol {

// Message kinds.
constexpr char kHello = 'H';     // interpreter -> pycemit, once: interpreter facts
constexpr char kRefused = 'R';   // interpreter -> pycemit, instead of hello: implementation, version
constexpr char kCompile = 'C';   // pycemit -> interpreter: id, level, embedded path, source
constexpr char kDump = 'D';      // pycemit -> interpreter: id, expression (marshal.dumps of its value)
constexpr char kVerify = 'V';    // pycemit -> interpreter: id, its marshal bytes, their canonical form
constexpr char kCompiled = 'K';  // interpreter -> pycemit: id, marshal bytes, (category, line, message)*
constexpr char kFailed = 'E';    // interpreter -> pycemit: id, type, message, line, column

// Largest payload accepted (bytes). Anything longer is junk, not a frame.
constexpr std::size_t kMaxPayload = std::size_t{1} << 30;

// The byte stream is not a sequence of well-formed frames. Not recoverable: the
// interpreter that sent it is replaced.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Frame {
  char kind = 0;
  std::vector<std::string> fields;
};

// The bytes of one frame.
std::string encode_frame(char kind, const std::vector<std::string_view>& fields);

// Reassembles frames from a byte stream that arrives in pieces.
class FrameReader {
 public:
  // Appends received bytes.
  void feed(std::string_view bytes);
  // The next complete frame, or nullopt if more bytes are needed. Throws
  // ProtocolError for a length over kMaxPayload, an empty payload, an unknown
  // kind, or fields that overrun the payload.
  std::optional<Frame> next();
  // Bytes received but not yet returned as a frame.
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  std::size_t consumed_ = 0;
};

// Parses a decimal integer field; throws ProtocolError if it is not one.
long long parse_int_field(std::string_view field);

}  // namespace pycemit::protocol
