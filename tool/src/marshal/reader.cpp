// The reader: marshal.c's r_object() turned into a loop over an explicit stack of
// open containers, so that no input can make it recurse.
#include "reader.h"

#include <array>
#include <cstdio>
#include <cstring>
#include <vector>

#include "code_shape.h"
#include "cursor.h"
#include "integers.h"
#include "text.h"
#include "type_codes.h"

namespace pycemit::marshal::detail {

namespace {

constexpr std::uint32_t kNoSlot = UINT32_MAX;      // an object without FLAG_REF
constexpr std::uint32_t kIncomplete = UINT32_MAX;  // a reserved, unfilled ref slot

// What read_object() found.
struct Item {
  enum class Type { Node, Null, Pushed };
  Type type;
  std::uint32_t node = 0;  // Type::Node
  std::size_t offset = 0;  // of the type byte
};

// A container whose children are being read.
struct Frame {
  Kind kind;
  std::uint32_t offset;
  std::uint32_t expected;   // number of children (dicts and frozendicts: unused)
  std::size_t first_child;  // where its children start in Reader::pending_
  std::uint32_t ref_slot;   // kNoSlot when the container had no FLAG_REF
  std::uint32_t int_count = 0;
  std::array<std::int32_t, kMaxCodeInts> ints{};  // code objects: the int32 fields read so far
};

std::string hex_byte(unsigned value) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", value & 0xff);
  return buf;
}

// For messages: the text with non-printable bytes escaped, at most 40 bytes.
std::string quoted(std::string_view text) {
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < 40; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + (text.size() > 40 ? "'..." : "'");
}

std::string float_payload(double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((bits >> (8 * i)) & 0xff);
  return out;
}

class Reader {
 public:
  Reader(std::string_view data, CodeLayout layout) : cursor_(data), tree_(layout), shape_(code_shape(layout)) {}

  Tree run();

 private:
  Item read_object();
  void before_next_child();
  bool deliver(const Item& item);
  Item pop_frame();
  Tree finish(const Item& root);

  Item leaf(Kind kind, std::string_view payload, bool flagged, std::size_t offset, bool interned = false);
  Item push(Kind kind, std::uint32_t expected, bool flagged, std::size_t offset);

  Item read_ref(std::size_t offset);
  Item read_long(bool flagged, std::size_t offset);
  std::string read_float_text(const char* what);
  Item read_bytes(bool flagged, std::size_t offset);
  Item read_str(std::uint8_t type, bool flagged, std::size_t offset);
  Item read_sequence(Kind kind, std::uint8_t type, bool flagged, std::size_t offset);
  Item read_code(bool flagged, std::size_t offset);

  std::uint32_t byte_length(const char* what);
  std::uint32_t item_count(std::int32_t n, Kind kind, std::size_t count_offset);

  Cursor cursor_;
  Tree tree_;
  CodeShape shape_;
  std::vector<Frame> stack_;            // the open containers, innermost last
  std::vector<std::uint32_t> pending_;  // their children read so far
  std::vector<std::uint32_t> slots_;    // the reference table (r_ref_reserve order)
};

Tree Reader::run() {
  if (cursor_.remaining() > kMaxInputSize) {
    throw MarshalError("input of " + std::to_string(cursor_.remaining()) + " bytes is larger than the 2 GiB limit", 0);
  }
  for (;;) {
    before_next_child();
    Item item = read_object();
    if (item.type == Item::Type::Pushed) {
      const Frame& top = stack_.back();
      if (is_mapping(top.kind) || top.expected > 0) continue;
      item = pop_frame();  // an empty container is complete at once
    }
    // Hand the object to its container; close every container it completes.
    bool top_open = false;
    while (!stack_.empty() && !top_open) {
      if (deliver(item)) {
        item = pop_frame();
      } else {
        top_open = true;
      }
    }
    if (!top_open) return finish(item);
  }
}

// The int32 co_firstlineno follows the first objects_before_line object fields.
void Reader::before_next_child() {
  if (stack_.empty()) return;
  Frame& top = stack_.back();
  if (top.kind == Kind::Code && pending_.size() - top.first_child == shape_.objects_before_line &&
      top.int_count == shape_.leading_ints) {
    top.ints[top.int_count++] = cursor_.int32("co_firstlineno of a code object");
  }
}

// Adds a child to the innermost container; true when that completes it.
bool Reader::deliver(const Item& item) {
  const Frame& top = stack_.back();
  const std::size_t have = pending_.size() - top.first_child;
  if (item.type == Item::Type::Null) {
    if (!is_mapping(top.kind)) {
      throw MarshalError(std::string("NULL object ('0') inside a ") + kind_name(top.kind), item.offset);
    }
    // r_object's dict (and 3.15's frozendict) loop stops at a NULL key, and at a
    // NULL value, dropping its key.
    if (have % 2 == 1) pending_.pop_back();
    return true;
  }
  pending_.push_back(item.node);
  return !is_mapping(top.kind) && have + 1 == top.expected;
}

Item Reader::pop_frame() {
  const Frame frame = stack_.back();
  stack_.pop_back();
  std::string payload;
  for (std::uint32_t i = 0; i < frame.int_count; ++i) {
    const auto v = static_cast<std::uint32_t>(frame.ints[i]);
    for (int b = 0; b < 4; ++b) payload.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
  }
  const auto children = std::span<const std::uint32_t>(pending_).subspan(frame.first_child);
  const std::uint32_t node = tree_.add(frame.kind, false, frame.offset, payload, children);
  pending_.resize(frame.first_child);
  if (frame.ref_slot != kNoSlot) slots_[frame.ref_slot] = node;
  return Item{Item::Type::Node, node, frame.offset};
}

Tree Reader::finish(const Item& root) {
  if (root.type == Item::Type::Null) {
    throw MarshalError("NULL object ('0') at the top level", root.offset);
  }
  if (!cursor_.at_end()) {
    throw MarshalError(std::to_string(cursor_.remaining()) + " trailing bytes after the object", cursor_.offset());
  }
  tree_.set_root(root.node);
  return std::move(tree_);
}

// One object: a complete leaf, a NULL, or a container now open on the stack.
Item Reader::read_object() {
  const std::size_t at = cursor_.offset();
  if (cursor_.at_end()) {
    throw MarshalError("truncated data: an object was expected, no bytes remain", at);
  }
  const std::uint8_t code = cursor_.byte("type code");
  const bool flagged = (code & kFlagRef) != 0;
  const std::uint8_t type = code & static_cast<std::uint8_t>(~kFlagRef);
  if (stack_.size() + 1 > kMaxDepth) {
    throw MarshalError(
        "objects nested deeper than " + std::to_string(kMaxDepth) + " (marshal.c's MAX_MARSHAL_STACK_DEPTH)", at);
  }
  // FLAG_REF on NULL, the singletons and 'r' is ignored, as r_object does.
  switch (type) {
    case kTypeNull: return Item{Item::Type::Null, 0, at};
    case kTypeNone: return Item{Item::Type::Node, Tree::singleton(Kind::None), at};
    case kTypeFalse: return Item{Item::Type::Node, Tree::singleton(Kind::False), at};
    case kTypeTrue: return Item{Item::Type::Node, Tree::singleton(Kind::True), at};
    case kTypeStopIteration: return Item{Item::Type::Node, Tree::singleton(Kind::StopIteration), at};
    case kTypeEllipsis: return Item{Item::Type::Node, Tree::singleton(Kind::Ellipsis), at};
    case kTypeRef: return read_ref(at);
    case kTypeInt: return leaf(Kind::Int, int_payload_from_int64(cursor_.int32("an int")), flagged, at);
    case kTypeInt64: return leaf(Kind::Int, int_payload_from_int64(cursor_.int64("an int64")), flagged, at);
    case kTypeLong: return read_long(flagged, at);
    case kTypeFloat: return leaf(Kind::Float, read_float_text("a text float"), flagged, at);
    case kTypeBinaryFloat: return leaf(Kind::Float, cursor_.take(8, "a float"), flagged, at);
    case kTypeComplex: {
      std::string payload = read_float_text("the real part of a text complex");
      payload += read_float_text("the imaginary part of a text complex");
      return leaf(Kind::Complex, payload, flagged, at);
    }
    case kTypeBinaryComplex: return leaf(Kind::Complex, cursor_.take(16, "a complex"), flagged, at);
    case kTypeString: return read_bytes(flagged, at);
    case kTypeUnicode:
    case kTypeInterned:
    case kTypeAscii:
    case kTypeAsciiInterned:
    case kTypeShortAscii:
    case kTypeShortAsciiInterned: return read_str(type, flagged, at);
    case kTypeTuple:
    case kTypeSmallTuple: return read_sequence(Kind::Tuple, type, flagged, at);
    case kTypeList: return read_sequence(Kind::List, type, flagged, at);
    case kTypeSet: return read_sequence(Kind::Set, type, flagged, at);
    case kTypeFrozenSet: return read_sequence(Kind::FrozenSet, type, flagged, at);
    case kTypeDict: return push(Kind::Dict, 0, flagged, at);
    case kTypeFrozenDict: return push(Kind::FrozenDict, 0, flagged, at);
    case kTypeCode: return read_code(flagged, at);
    case kTypeSlice: return push(Kind::Slice, 3, flagged, at);
    default: break;
  }
  std::string message = "unknown type code " + hex_byte(code);
  if (type == kTypeUnknown) {
    message += " ('?': marshal wrote an unmarshallable object)";
  } else if (type >= 0x20 && type < 0x7f) {
    message += std::string(" ('") + static_cast<char>(type) + "')";
  }
  throw MarshalError(message, at);
}

// A complete object without children; registered when flagged (R_REF).
Item Reader::leaf(Kind kind, std::string_view payload, bool flagged, std::size_t offset, bool interned) {
  const std::uint32_t node = tree_.add(kind, interned, static_cast<std::uint32_t>(offset), payload, {});
  if (flagged) slots_.push_back(node);
  return Item{Item::Type::Node, node, offset};
}

// Opens a container. Its reference slot is reserved now, before its children,
// as r_ref_reserve / R_REF do for every container (3.15's frozendict included):
// reference indices are in pre-order.
Item Reader::push(Kind kind, std::uint32_t expected, bool flagged, std::size_t offset) {
  std::uint32_t slot = kNoSlot;
  if (flagged) {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(kIncomplete);
  }
  stack_.push_back(Frame{kind, static_cast<std::uint32_t>(offset), expected, pending_.size(), slot});
  return Item{Item::Type::Pushed, 0, offset};
}

Item Reader::read_ref(std::size_t offset) {
  const std::int32_t index = cursor_.int32("a reference index");
  if (index < 0 || static_cast<std::size_t>(index) >= slots_.size()) {
    throw MarshalError("invalid reference index " + std::to_string(index) + " (" + std::to_string(slots_.size()) +
                           " objects registered so far)",
                       offset);
  }
  const std::uint32_t node = slots_[static_cast<std::size_t>(index)];
  if (node == kIncomplete) {
    throw MarshalError("reference " + std::to_string(index) + " to an object that is not complete yet (a cycle)",
                       offset);
  }
  return Item{Item::Type::Node, node, offset};
}

// 'l': int32 digit count (negative for negative ints), then 15-bit digits.
Item Reader::read_long(bool flagged, std::size_t offset) {
  const std::size_t count_at = cursor_.offset();
  const std::int32_t count = cursor_.int32("the digit count of an int");
  const std::uint64_t digits = count < 0 ? -static_cast<std::int64_t>(count) : count;
  if (2 * digits > cursor_.remaining()) {
    throw MarshalError("int of " + std::to_string(digits) + " digits exceeds the " +
                           std::to_string(cursor_.remaining()) + " remaining bytes",
                       count_at);
  }
  const std::size_t digits_at = cursor_.offset();
  const std::string_view bytes = cursor_.take(2 * digits, "the digits of an int");
  return leaf(Kind::Int, int_payload_from_digits(count, bytes, digits_at), flagged, offset);
}

// 'f' and 'x': a 1-byte length and a float as text (r_float_str); gives 'g' bytes.
std::string Reader::read_float_text(const char* what) {
  const std::size_t at = cursor_.offset();
  const std::uint8_t n = cursor_.byte(what);
  const std::string_view text = cursor_.take(n, what);
  const auto value = parse_float_text(text);
  if (!value) throw MarshalError("invalid float text " + quoted(text), at);
  return float_payload(*value);
}

// An int32 length of bytes that follow, checked against the input.
std::uint32_t Reader::byte_length(const char* what) {
  const std::size_t at = cursor_.offset();
  const std::int32_t n = cursor_.int32(what);
  if (n < 0) throw MarshalError("negative length " + std::to_string(n) + " of " + what, at);
  if (static_cast<std::size_t>(n) > cursor_.remaining()) {
    throw MarshalError("length " + std::to_string(n) + " of " + what + " exceeds the " +
                           std::to_string(cursor_.remaining()) + " remaining bytes",
                       at);
  }
  return static_cast<std::uint32_t>(n);
}

// An int32 item count; every item takes at least one byte of the input.
std::uint32_t Reader::item_count(std::int32_t n, Kind kind, std::size_t count_offset) {
  if (n < 0) {
    throw MarshalError("negative size " + std::to_string(n) + " of a " + kind_name(kind), count_offset);
  }
  if (static_cast<std::size_t>(n) > cursor_.remaining()) {
    throw MarshalError(std::string("a ") + kind_name(kind) + " of " + std::to_string(n) + " items cannot fit in the " +
                           std::to_string(cursor_.remaining()) + " remaining bytes",
                       count_offset);
  }
  return static_cast<std::uint32_t>(n);
}

Item Reader::read_bytes(bool flagged, std::size_t offset) {
  const std::uint32_t n = byte_length("a bytes object");
  return leaf(Kind::Bytes, cursor_.take(n, "a bytes object"), flagged, offset);
}

Item Reader::read_str(std::uint8_t type, bool flagged, std::size_t offset) {
  const bool short_form = type == kTypeShortAscii || type == kTypeShortAsciiInterned;
  const bool one_byte_kind = short_form || type == kTypeAscii || type == kTypeAsciiInterned;
  const std::uint32_t n = short_form ? cursor_.byte("the length of a short str") : byte_length("a str");
  const std::size_t text_at = cursor_.offset();
  std::string_view text = cursor_.take(n, "a str");
  std::string converted;
  if (one_byte_kind) {
    // Read as Latin-1 whatever the letter promises; store the text in UTF-8.
    if (!is_ascii(text)) {
      converted = latin1_to_utf8(text);
      text = converted;
    }
  } else if (const std::size_t bad = find_invalid_utf8(text); bad != std::string_view::npos) {
    throw MarshalError("invalid UTF-8 in a str: byte " + hex_byte(static_cast<unsigned char>(text[bad])),
                       text_at + bad);
  }
  // The interned flag CPython wrote depends on process state (gh-129724); the
  // canonical form derives it from the text alone.
  return leaf(Kind::Str, text, flagged, offset, canonically_interned(text));
}

// Tuples, lists, sets and frozensets: a count (1 byte for ')'), then the items.
Item Reader::read_sequence(Kind kind, std::uint8_t type, bool flagged, std::size_t offset) {
  const std::size_t count_at = cursor_.offset();
  const std::int32_t n =
      type == kTypeSmallTuple ? cursor_.byte("the size of a small tuple") : cursor_.int32("the size of a container");
  return push(kind, item_count(n, kind, count_at), flagged, offset);
}

Item Reader::read_code(bool flagged, std::size_t offset) {
  Item item = push(Kind::Code, shape_.objects, flagged, offset);
  Frame& frame = stack_.back();
  for (std::uint32_t i = 0; i < shape_.leading_ints; ++i) {
    frame.ints[frame.int_count++] = cursor_.int32("an int32 field of a code object");
  }
  return item;
}

}  // namespace

Tree parse(std::string_view data, CodeLayout layout) { return Reader(data, layout).run(); }

}  // namespace pycemit::marshal::detail
