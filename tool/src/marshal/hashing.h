// Non-cryptographic 64-bit hashing of marshal values, shared by the tree's
// hash-consing and the inspection walk's duplicate detection. It only has to
// spread keys: a collision costs one extra comparison in the tree, and in the
// inspection at worst a needless rewrite of a pyc.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace pycemit::marshal::detail {

// splitmix64's finaliser.
inline std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Folds `bytes` into `h`, eight at a time; the length is folded in last, so
// "ab" and "ab\0" differ.
inline std::uint64_t hash_bytes(std::uint64_t h, std::string_view bytes) {
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    h = mix(h ^ word);
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
  return mix(h ^ tail ^ (static_cast<std::uint64_t>(bytes.size()) << 56));
}

}  // namespace pycemit::marshal::detail
