// Shared helpers of the marshal unit tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "pycemit/marshal.h"

namespace pycemit::marshal::testing {

inline std::string canon(const std::string& data, CodeLayout layout = CodeLayout::Py311) {
  return canonicalize(data, layout);
}

// Hex of bytes, for readable failures.
inline std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
    out.push_back(' ');
  }
  return out;
}

#define EXPECT_BYTES_EQ(actual, expected) EXPECT_EQ(hex(actual), hex(expected))

// Expects canonicalize() to throw MarshalError whose message contains
// `fragment` and names `offset`, and code_filename() to throw MarshalError.
inline void expect_rejected(const std::string& data, const std::string& fragment, std::size_t offset,
                            CodeLayout layout = CodeLayout::Py311) {
  SCOPED_TRACE("input: " + hex(data.substr(0, 64)));
  for (int call = 0; call < 2; ++call) {
    try {
      if (call == 0) {
        canonicalize(data, layout);
      } else {
        code_filename(data, layout);
      }
      ADD_FAILURE() << "accepted, expected an error containing \"" << fragment << "\"";
    } catch (const MarshalError& e) {
      if (call == 1) continue;  // code_filename() walks with its own messages: it must only refuse
      const std::string what = e.what();
      EXPECT_NE(what.find(fragment), std::string::npos) << "message: " << what;
      EXPECT_EQ(e.offset(), offset) << "message: " << what;
      EXPECT_NE(what.find("at offset " + std::to_string(offset)), std::string::npos) << what;
    }
  }
}

}  // namespace pycemit::marshal::testing
