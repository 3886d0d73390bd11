// The marshal type codes and limits, as Python/marshal.c defines them (TYPE_*,
// FLAG_REF, MAX_MARSHAL_STACK_DEPTH). Private to the marshal library.
#pragma once

#include <cstdint>

namespace pycemit::marshal::detail {

// One byte per object; FLAG_REF may be OR-ed into it (marshal.c, W_TYPE/R_REF).
inline constexpr std::uint8_t kTypeNull = '0';  // ends a dict or frozendict; an error elsewhere
inline constexpr std::uint8_t kTypeNone = 'N';
inline constexpr std::uint8_t kTypeFalse = 'F';
inline constexpr std::uint8_t kTypeTrue = 'T';
inline constexpr std::uint8_t kTypeStopIteration = 'S';
inline constexpr std::uint8_t kTypeEllipsis = '.';
inline constexpr std::uint8_t kTypeInt = 'i';            // int32
inline constexpr std::uint8_t kTypeInt64 = 'I';          // read only: int64
inline constexpr std::uint8_t kTypeFloat = 'f';          // read only: float as text
inline constexpr std::uint8_t kTypeBinaryFloat = 'g';    // 8-byte LE double
inline constexpr std::uint8_t kTypeComplex = 'x';        // read only: two texts
inline constexpr std::uint8_t kTypeBinaryComplex = 'y';  // two 8-byte LE doubles
inline constexpr std::uint8_t kTypeLong = 'l';           // 15-bit digits
inline constexpr std::uint8_t kTypeString = 's';         // bytes
inline constexpr std::uint8_t kTypeInterned = 't';       // interned str, UTF-8
inline constexpr std::uint8_t kTypeRef = 'r';            // int32 index
inline constexpr std::uint8_t kTypeTuple = '(';          // int32 count
inline constexpr std::uint8_t kTypeSmallTuple = ')';     // 1-byte count
inline constexpr std::uint8_t kTypeList = '[';
inline constexpr std::uint8_t kTypeDict = '{';
inline constexpr std::uint8_t kTypeCode = 'c';
inline constexpr std::uint8_t kTypeUnicode = 'u';  // str, UTF-8
inline constexpr std::uint8_t kTypeUnknown = '?';  // never readable
inline constexpr std::uint8_t kTypeSet = '<';
inline constexpr std::uint8_t kTypeFrozenSet = '>';
inline constexpr std::uint8_t kTypeAscii = 'a';  // int32 length
inline constexpr std::uint8_t kTypeAsciiInterned = 'A';
inline constexpr std::uint8_t kTypeShortAscii = 'z';  // 1-byte length
inline constexpr std::uint8_t kTypeShortAsciiInterned = 'Z';
inline constexpr std::uint8_t kTypeSlice = ':';       // marshal version 5 (3.14)
inline constexpr std::uint8_t kTypeFrozenDict = '}';  // marshal version 6 (3.15, PEP 814)

inline constexpr std::uint8_t kFlagRef = 0x80;

// marshal.c's MAX_MARSHAL_STACK_DEPTH outside Windows: r_object() fails when it
// is entered at a depth above this (the top-level object is at depth 1).
inline constexpr std::uint32_t kMaxDepth = 2000;

}  // namespace pycemit::marshal::detail
