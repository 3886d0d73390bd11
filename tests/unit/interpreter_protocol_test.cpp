#include "pycemit/interpreter_protocol.h"

#include <gtest/gtest.h>

namespace pycemit::protocol {
namespace {

TEST(InterpreterProtocol, RoundTripsFramesFedByteByByte) {
  const std::string binary("a\0b\xff", 4);
  std::string stream = encode_frame(kCompile, {"7", "1", "pkg/m.py", binary}) + encode_frame(kFailed, {});
  FrameReader reader;
  std::vector<Frame> frames;
  for (char c : stream) {
    reader.feed(std::string_view(&c, 1));
    while (auto f = reader.next()) frames.push_back(*f);
  }
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].kind, kCompile);
  EXPECT_EQ(frames[0].fields, (std::vector<std::string>{"7", "1", "pkg/m.py", binary}));
  EXPECT_EQ(frames[1].kind, kFailed);
  EXPECT_TRUE(frames[1].fields.empty());
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(InterpreterProtocol, RejectsJunk) {
  FrameReader text;
  text.feed("Hello, I am not a frame\n");
  EXPECT_THROW(text.next(), ProtocolError);  // "Hell" as a length is > kMaxPayload

  FrameReader kind;
  kind.feed(std::string("\x02\0\0\0Zx", 6));
  EXPECT_THROW(kind.next(), ProtocolError);

  FrameReader overrun;
  overrun.feed(std::string("\x06\0\0\0K\x09\0\0\0a", 10));
  EXPECT_THROW(overrun.next(), ProtocolError);

  FrameReader empty;
  empty.feed(std::string("\0\0\0\0", 4));
  EXPECT_THROW(empty.next(), ProtocolError);
}

TEST(InterpreterProtocol, IntegerFields) {
  EXPECT_EQ(parse_int_field("42"), 42);
  EXPECT_EQ(parse_int_field("-1"), -1);
  EXPECT_THROW(parse_int_field(""), ProtocolError);
  EXPECT_THROW(parse_int_field("4x"), ProtocolError);
}

}  // namespace
}  // namespace pycemit::protocol
