// Little-endian unsigned integers, as the pyc header (PEP 552: four u32 words),
// pycemit's interpreter protocol (u32 lengths) and the stat-cache file (u32
// lengths, u64 identities) store them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace pycemit {

// Appends `v` to `out` as sizeof(T) bytes, least significant first.
template <typename T>
void append_le(std::string& out, T v) {
  static_assert(std::is_unsigned_v<T>);
  for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// The T stored least significant byte first at data[offset]. The caller makes
// sure sizeof(T) bytes are there (no bounds check).
template <typename T>
T read_le(std::string_view data, std::size_t offset) {
  static_assert(std::is_unsigned_v<T>);
  T v = 0;
  for (std::size_t i = sizeof(T); i-- > 0;) v = static_cast<T>((v << 8) | static_cast<std::uint8_t>(data[offset + i]));
  return v;
}

}  // namespace pycemit
