#include "integers.h"

#include <cstdio>

#include "pycemit/marshal.h"

namespace pycemit::marshal::detail {

namespace {

void append_digit(std::string& out, std::uint32_t digit) {
  out.push_back(static_cast<char>(digit & 0xff));
  out.push_back(static_cast<char>(digit >> 8));
}

std::uint32_t digit_at(std::string_view digits, std::size_t i) {
  return static_cast<unsigned char>(digits[2 * i]) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(digits[2 * i + 1])) << 8);
}

}  // namespace

std::string int_payload_from_int64(std::int64_t value) {
  std::string out(1, value < 0 ? '-' : '+');
  // Magnitude without overflow for INT64_MIN.
  std::uint64_t magnitude = value < 0 ? ~static_cast<std::uint64_t>(value) + 1 : static_cast<std::uint64_t>(value);
  while (magnitude != 0) {
    append_digit(out, static_cast<std::uint32_t>(magnitude & kLongDigitMax));
    magnitude >>= kLongDigitBits;
  }
  return out;
}

std::string int_payload_from_digits(std::int32_t count, std::string_view digits, std::size_t digits_offset) {
  // r_PyLong: "long size out of range" beyond +-SIZE32_MAX, i.e. only INT32_MIN.
  if (count == INT32_MIN) {
    throw MarshalError("int digit count -2147483648 out of range", digits_offset - 4);
  }
  std::string out(1, count < 0 ? '-' : '+');
  if (count == 0) return out;  // zero: no digits
  const std::size_t n = digits.size() / 2;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t digit = digit_at(digits, i);
    // r_PyLong reads each digit as a signed short and rejects md < 0.
    if (digit > kLongDigitMax) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%04x", static_cast<unsigned>(digit & 0xffff));
      throw MarshalError(std::string("int digit ") + hex + " out of range (above 0x7fff)", digits_offset + 2 * i);
    }
  }
  if (digit_at(digits, n - 1) == 0) {
    throw MarshalError("unnormalized int: top digit is zero", digits_offset + 2 * (n - 1));
  }
  out.append(digits);
  return out;
}

std::optional<std::int32_t> int_payload_as_int32(std::string_view payload) {
  const std::size_t n = (payload.size() - 1) / 2;
  if (n > 3) return std::nullopt;  // at least 2**30: 3 digits hold up to 2**45 - 1
  std::uint64_t magnitude = 0;
  for (std::size_t i = n; i-- > 0;) {
    magnitude = (magnitude << kLongDigitBits) | digit_at(payload.substr(1), i);
  }
  if (payload[0] == '-') {
    if (magnitude > 0x80000000ULL) return std::nullopt;
    return static_cast<std::int32_t>(-static_cast<std::int64_t>(magnitude));
  }
  if (magnitude > 0x7fffffffULL) return std::nullopt;
  return static_cast<std::int32_t>(magnitude);
}

}  // namespace pycemit::marshal::detail
