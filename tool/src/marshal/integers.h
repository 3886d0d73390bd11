// Ints: one payload for 'i', 'I' and 'l', so that equal ints are equal payloads.
//
// Payload: a sign byte ('+', or '-' for negative numbers; zero is '+') followed by
// the magnitude in base 2**15, least significant digit first, each digit a
// little-endian uint16, and no zero top digit (zero has no digits). That is the
// digit sequence of marshal's 'l' (Python/marshal.c, w_PyLong/r_PyLong).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pycemit::marshal::detail {

inline constexpr int kLongDigitBits = 15;                       // PyLong_MARSHAL_SHIFT
inline constexpr std::uint32_t kLongDigitMax = (1u << 15) - 1;  // largest valid digit

// The payload of an int that fits in 64 bits ('i', 'I').
std::string int_payload_from_int64(std::int64_t value);

// The payload of an 'l' object: `count` is its int32 digit count (negative for
// negative numbers), `digits` its 2*|count| digit bytes (the caller checked the
// length), `digits_offset` where they start in the input. Throws MarshalError,
// as r_PyLong rejects them, for a count of INT32_MIN, a digit above 0x7fff, or a
// zero top digit ("unnormalized").
std::string int_payload_from_digits(std::int32_t count, std::string_view digits, std::size_t digits_offset);

// The value of an int payload when it fits in int32 (written as 'i'), else none.
std::optional<std::int32_t> int_payload_as_int32(std::string_view payload);

}  // namespace pycemit::marshal::detail
