// Text helpers for str payloads and for the text floats of 'f' and 'x'.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace pycemit::marshal::detail {

// The index of the first byte of `bytes` that starts an invalid sequence for
// CPython's UTF-8 decoder with the "surrogatepass" handler (what r_object uses
// for 'u' and 't'), or npos when it is all valid. Valid: the shortest UTF-8 form
// of U+0000..U+10FFFF, including the surrogates U+D800..U+DFFF (ED A0..BF xx).
std::size_t find_invalid_utf8(std::string_view bytes);

// Latin-1 to UTF-8: 'a'/'A'/'z'/'Z' payloads are read by CPython with
// PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, ...), i.e. as Latin-1.
std::string latin1_to_utf8(std::string_view bytes);

bool is_ascii(std::string_view bytes);

// The number of code points of valid UTF-8 text.
std::size_t count_code_points(std::string_view utf8);

// Whether the canonical form writes a str with this text as interned: at least
// two characters, every one an ASCII letter, digit or underscore. That is
// CPython's all_name_chars rule (Objects/codeobject.c), the strings the code
// object constructor interns itself, so loading is equivalent either way; the
// input's own flag is ignored because CPython sets it from process state (one-
// character strings everywhere; on 3.13 any string equal to one interned
// earlier in the process, such as a qualname).
bool canonically_interned(std::string_view utf8);

// The double CPython's PyOS_string_to_double(text, NULL, NULL) gives for the
// text of an 'f' or 'x' object (r_float_str), or none where it raises: the text
// ends at its first NUL byte (CPython passes a C string); accepted are an
// optional sign then decimal digits with an optional point and exponent, or
// "inf", "infinity", "nan" in any case. Overflow gives an infinity, underflow
// zero or a subnormal, rounded correctly. "nan" is the quiet NaN
// 0x7ff8000000000000 ("-nan": with the sign bit), the bit pattern CPython 3.11+
// gives; 3.8-3.10 may give other NaN bits.
std::optional<double> parse_float_text(std::string_view text);

}  // namespace pycemit::marshal::detail
