// skim_code_filename(): the reader's walk (Python/marshal.c, r_object) with
// every payload skipped. Iterative, like the reader: no input can make it recurse.
#include "skim.h"

#include <cstdint>
#include <cstdio>
#include <vector>

#include "code_shape.h"
#include "cursor.h"
#include "text.h"
#include "type_codes.h"

namespace pycemit::marshal::detail {
namespace {

constexpr std::uint32_t kNoSlot = UINT32_MAX;

struct Frame {
  std::uint8_t type;          // '(', ')', '[', '<', '>', '{', 'c', ':'
  std::uint32_t left;         // children still to read (dicts: until a NULL)
  std::uint32_t objects_read; // code objects: object fields read so far
  std::uint32_t slot;         // its reference slot, or kNoSlot
};

std::string type_name(std::uint8_t type) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "type code 0x%02x", type);
  return buf;
}

class Skimmer {
 public:
  Skimmer(std::string_view data, CodeLayout layout) : data_(data), cursor_(data), shape_(code_shape(layout)) {}

  std::string run() {
    if (cursor_.remaining() == 0 || (static_cast<std::uint8_t>(data_[0]) & ~kFlagRef) != kTypeCode) {
      throw MarshalError("the top-level object is not a code object", 0);
    }
    read_object();
    while (!stack_.empty()) next_child();
    if (!cursor_.at_end()) {
      throw MarshalError(std::to_string(cursor_.remaining()) + " bytes after the object", cursor_.offset());
    }
    return filename();
  }

 private:
  // Reads the next child of the innermost open container, or closes it.
  void next_child() {
    Frame& top = stack_.back();
    if (top.type == kTypeDict) {
      if (cursor_.remaining() > 0 && (static_cast<std::uint8_t>(data_[cursor_.offset()]) & ~kFlagRef) == kTypeNull) {
        cursor_.byte("a NULL");  // a dict ends at a NULL key (or drops the key of a NULL value)
        close();
      } else {
        read_object();
      }
      return;
    }
    if (top.left == 0) {
      close();
      return;
    }
    if (top.type == kTypeCode) {
      if (top.objects_read == shape_.objects_before_line) cursor_.int32("co_firstlineno");
      if (stack_.size() == 1 && top.objects_read == shape_.filename_index) filename_at_ = cursor_.offset();
      ++top.objects_read;
    }
    --top.left;
    read_object();  // may push, invalidating `top`
  }

  void close() {
    if (stack_.back().slot != kNoSlot) complete_[stack_.back().slot] = true;
    stack_.pop_back();
  }

  std::uint32_t reserve(bool flagged, std::size_t offset, bool complete) {
    if (!flagged) return kNoSlot;
    slots_.push_back(offset);
    complete_.push_back(complete);
    return static_cast<std::uint32_t>(slots_.size() - 1);
  }

  std::uint32_t length(const char* what) {
    const std::int32_t n = cursor_.int32(what);
    if (n < 0 || static_cast<std::size_t>(n) > cursor_.remaining()) {
      throw MarshalError("bad length " + std::to_string(n) + " of " + what, cursor_.offset() - 4);
    }
    return static_cast<std::uint32_t>(n);
  }

  void open(std::uint8_t type, std::uint32_t children, bool flagged, std::size_t offset) {
    stack_.push_back({type, children, 0, reserve(flagged, offset, false)});
  }

  void read_object() {
    if (stack_.size() + 1 > kMaxDepth) {
      throw MarshalError("objects nested deeper than " + std::to_string(kMaxDepth), cursor_.offset());
    }
    const std::size_t offset = cursor_.offset();
    const std::uint8_t code = cursor_.byte("a type code");
    const bool flagged = (code & kFlagRef) != 0;
    const std::uint8_t type = code & ~kFlagRef;
    switch (type) {
      case kTypeNone: case kTypeFalse: case kTypeTrue: case kTypeStopIteration: case kTypeEllipsis:
        return;  // singletons take no reference slot, flagged or not
      case kTypeNull:
        throw MarshalError("NULL object outside a dict", offset);
      case kTypeRef: {
        const std::int32_t index = cursor_.int32("a reference index");
        if (index < 0 || static_cast<std::size_t>(index) >= slots_.size() || !complete_[index]) {
          throw MarshalError("bad reference index " + std::to_string(index), offset);
        }
        return;
      }
      case kTypeInt: cursor_.take(4, "an int"); break;
      case kTypeInt64: cursor_.take(8, "an int64"); break;
      case kTypeBinaryFloat: cursor_.take(8, "a float"); break;
      case kTypeBinaryComplex: cursor_.take(16, "a complex"); break;
      case kTypeFloat: cursor_.take(cursor_.byte("a float's length"), "a float"); break;
      case kTypeComplex:
        cursor_.take(cursor_.byte("a complex's length"), "a complex");
        cursor_.take(cursor_.byte("a complex's length"), "a complex");
        break;
      case kTypeLong: {
        const std::int32_t n = cursor_.int32("a long's digit count");
        const std::uint64_t digits = n < 0 ? -static_cast<std::int64_t>(n) : n;
        if (digits > cursor_.remaining() / 2) throw MarshalError("bad long digit count", offset);
        cursor_.take(2 * digits, "long digits");
        break;
      }
      case kTypeString: case kTypeInterned: case kTypeUnicode: case kTypeAscii: case kTypeAsciiInterned:
        cursor_.take(length("a str or bytes"), "a str or bytes");
        break;
      case kTypeShortAscii: case kTypeShortAsciiInterned:
        cursor_.take(cursor_.byte("a short str's length"), "a short str");
        break;
      case kTypeSmallTuple: open(type, cursor_.byte("a tuple's size"), flagged, offset); return;
      case kTypeTuple: case kTypeList: case kTypeSet: case kTypeFrozenSet:
        open(type, length("a container's size"), flagged, offset);
        return;
      case kTypeDict: open(type, 0, flagged, offset); return;
      case kTypeSlice: open(type, 3, flagged, offset); return;
      case kTypeCode:
        cursor_.take(4 * shape_.leading_ints, "a code object's int fields");
        open(type, shape_.objects, flagged, offset);
        return;
      default:
        throw MarshalError("unknown " + type_name(type), offset);
    }
    reserve(flagged, offset, true);
  }

  // The string at `filename_at_`, following one reference.
  std::string filename() {
    std::size_t at = filename_at_;
    std::uint8_t type = static_cast<std::uint8_t>(data_[at]) & ~kFlagRef;
    if (type == kTypeRef) {
      Cursor c(data_.substr(at + 1));
      at = slots_[static_cast<std::uint32_t>(c.int32("a reference index"))];
      type = static_cast<std::uint8_t>(data_[at]) & ~kFlagRef;
    }
    Cursor c(data_.substr(at + 1));
    switch (type) {
      case kTypeUnicode: case kTypeInterned: {
        const std::string_view text = c.take(static_cast<std::uint32_t>(c.int32("length")), "a str");
        return std::string(text);
      }
      case kTypeAscii: case kTypeAsciiInterned:
        return latin1_to_utf8(c.take(static_cast<std::uint32_t>(c.int32("length")), "a str"));
      case kTypeShortAscii: case kTypeShortAsciiInterned:
        return latin1_to_utf8(c.take(c.byte("length"), "a str"));
      default:
        throw MarshalError("co_filename is not a str (" + type_name(type) + ")", at);
    }
  }

  std::string_view data_;
  Cursor cursor_;
  CodeShape shape_;
  std::vector<Frame> stack_;
  std::vector<std::size_t> slots_;  // offset of each reference slot's object, in reservation order
  std::vector<bool> complete_;      // whether that object has been read to its end
  std::size_t filename_at_ = 0;
};

}  // namespace

std::string skim_code_filename(std::string_view data, CodeLayout layout) { return Skimmer(data, layout).run(); }

}  // namespace pycemit::marshal::detail
