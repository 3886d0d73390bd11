// Building marshal streams by hand for the tests, one object at a time, in the
// encodings Python/marshal.c documents. Each method appends one object's header
// (containers: their children follow with further calls).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "pycemit/marshal.h"

namespace pycemit::marshal::testing {

inline constexpr std::uint8_t kRef = 0x80;  // FLAG_REF

class Stream {
 public:
  std::string bytes() const { return out_; }
  operator std::string() const { return out_; }

  Stream& raw(std::string_view s) {
    out_.append(s);
    return *this;
  }
  Stream& byte(std::uint8_t b) {
    out_.push_back(static_cast<char>(b));
    return *this;
  }
  Stream& i32(std::int64_t v) {
    const auto u = static_cast<std::uint32_t>(v);
    for (int i = 0; i < 4; ++i) byte(static_cast<std::uint8_t>(u >> (8 * i)));
    return *this;
  }
  Stream& u16(std::uint32_t v) { return byte(v & 0xff).byte((v >> 8) & 0xff); }
  Stream& type(char code, std::uint8_t flag = 0) { return byte(static_cast<std::uint8_t>(code) | flag); }

  Stream& none() { return type('N'); }
  Stream& null() { return type('0'); }
  Stream& int32(std::int32_t v, std::uint8_t flag = 0) { return type('i', flag).i32(v); }
  Stream& int64(std::int64_t v, std::uint8_t flag = 0) {
    type('I', flag);
    const auto u = static_cast<std::uint64_t>(v);
    for (int i = 0; i < 8; ++i) byte(static_cast<std::uint8_t>(u >> (8 * i)));
    return *this;
  }
  // 'l': signed digit count then 15-bit digits, least significant first.
  Stream& long_digits(std::int32_t count, std::initializer_list<std::uint32_t> digits, std::uint8_t flag = 0) {
    type('l', flag).i32(count);
    for (auto d : digits) u16(d);
    return *this;
  }
  Stream& binary_float(double v, std::uint8_t flag = 0) { return type('g', flag).double_bits(v); }
  Stream& binary_complex(double re, double im, std::uint8_t flag = 0) {
    return type('y', flag).double_bits(re).double_bits(im);
  }
  Stream& text_float(std::string_view text, std::uint8_t flag = 0) {
    return type('f', flag).byte(static_cast<std::uint8_t>(text.size())).raw(text);
  }
  Stream& bytes_object(std::string_view b, std::uint8_t flag = 0) {
    return type('s', flag).i32(static_cast<std::int64_t>(b.size())).raw(b);
  }
  // 'z'/'Z': 1-byte length.
  Stream& short_ascii(std::string_view s, bool interned = false, std::uint8_t flag = 0) {
    return type(interned ? 'Z' : 'z', flag).byte(static_cast<std::uint8_t>(s.size())).raw(s);
  }
  // 'a'/'A': int32 length.
  Stream& ascii(std::string_view s, bool interned = false, std::uint8_t flag = 0) {
    return type(interned ? 'A' : 'a', flag).i32(static_cast<std::int64_t>(s.size())).raw(s);
  }
  // 'u'/'t': int32 length, UTF-8.
  Stream& unicode(std::string_view s, bool interned = false, std::uint8_t flag = 0) {
    return type(interned ? 't' : 'u', flag).i32(static_cast<std::int64_t>(s.size())).raw(s);
  }
  Stream& small_tuple(std::uint8_t n, std::uint8_t flag = 0) { return type(')', flag).byte(n); }
  Stream& tuple(std::int64_t n, std::uint8_t flag = 0) { return type('(', flag).i32(n); }
  Stream& list(std::int64_t n, std::uint8_t flag = 0) { return type('[', flag).i32(n); }
  Stream& dict(std::uint8_t flag = 0) { return type('{', flag); }  // then key, value..., null()
  Stream& set(std::int64_t n, std::uint8_t flag = 0) { return type('<', flag).i32(n); }
  Stream& frozenset(std::int64_t n, std::uint8_t flag = 0) { return type('>', flag).i32(n); }
  Stream& slice(std::uint8_t flag = 0) { return type(':', flag); }       // then start, stop, step
  Stream& frozendict(std::uint8_t flag = 0) { return type('}', flag); }  // then key, value..., null()
  Stream& ref(std::int32_t index) { return type('r').i32(index); }

 private:
  Stream& double_bits(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    for (int i = 0; i < 8; ++i) byte(static_cast<std::uint8_t>(bits >> (8 * i)));
    return *this;
  }

  std::string out_;
};

// The field counts of a code object per layout (marshal.h, CodeLayout).
struct CodeFields {
  int ints;                 // int32 fields before the objects
  int objects_before_line;  // object fields before co_firstlineno
  int objects;              // all object fields
  int filename;             // the index of co_filename among the objects
};

inline CodeFields code_fields(CodeLayout layout) {
  switch (layout) {
    case CodeLayout::Py38: return {6, 8, 9, 6};
    case CodeLayout::Py311: return {5, 8, 10, 5};
    case CodeLayout::PyPy311: return {6, 9, 11, 6};
  }
  return {5, 8, 10, 5};
}

// A code object of `layout`, with placeholder ints (0, 1, 2...). The objects
// are appended by write_object(stream, field index) in field order;
// `firstlineno` is written after the objects_before_line-th object.
template <typename WriteObject>
std::string code_object(CodeLayout layout, std::int32_t firstlineno, WriteObject write_object, std::uint8_t flag = 0) {
  const CodeFields fields = code_fields(layout);
  Stream s;
  s.type('c', flag);
  for (int i = 0; i < fields.ints; ++i) s.i32(i);  // argcount ... flags: any values
  for (int i = 0; i < fields.objects; ++i) {
    if (i == fields.objects_before_line) s.i32(firstlineno);
    write_object(s, i);
  }
  return s;
}

// code_object() in the CPython 3.11 (`py311`) or 3.8 layout.
template <typename WriteObject>
std::string code_object(bool py311, std::int32_t firstlineno, WriteObject write_object, std::uint8_t flag = 0) {
  return code_object(py311 ? CodeLayout::Py311 : CodeLayout::Py38, firstlineno, write_object, flag);
}

}  // namespace pycemit::marshal::testing
