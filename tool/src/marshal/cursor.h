// A bounds-checked position in the input. Every read that would pass the end
// throws MarshalError("truncated data: ...") instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pycemit/marshal.h"

namespace pycemit::marshal::detail {

class Cursor {
 public:
  explicit Cursor(std::string_view data) : data_(data) {}

  std::size_t offset() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ == data_.size(); }

  // `what` names the thing being read, for the message ("length of a str").
  std::uint8_t byte(const char* what) { return static_cast<std::uint8_t>(take(1, what)[0]); }

  // Little-endian int32, as marshal.c's r_long.
  std::int32_t int32(const char* what) {
    const std::string_view b = take(4, what);
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[i]);
    return static_cast<std::int32_t>(v);
  }

  std::int64_t int64(const char* what) {
    const std::string_view b = take(8, what);
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[i]);
    return static_cast<std::int64_t>(v);
  }

  std::string_view take(std::size_t n, const char* what) {
    if (n > remaining()) {
      throw MarshalError("truncated data: " + std::string(what) + " needs " + std::to_string(n) + " bytes, " +
                             std::to_string(remaining()) + " remain",
                         pos_);
    }
    const std::string_view result = data_.substr(pos_, n);
    pos_ += n;
    return result;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace pycemit::marshal::detail
