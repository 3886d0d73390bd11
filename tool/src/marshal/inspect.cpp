// inspect(): the reader's walk (Python/marshal.c, r_object) without building
// a tree. Iterative, like the reader: no input can make it recurse.
#include "inspect.h"

#include <cstdint>
#include <cstdio>
#include <vector>

#include "code_shape.h"
#include "cursor.h"
#include "hashing.h"
#include "text.h"
#include "type_codes.h"

namespace pycemit::marshal::detail {
namespace {

constexpr std::uint32_t kNoSlot = UINT32_MAX;

std::string type_name(std::uint8_t type) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "type code 0x%02x", type);
  return buf;
}

bool is_singleton(std::uint8_t type) {
  return type == kTypeNone || type == kTypeFalse || type == kTypeTrue || type == kTypeStopIteration ||
         type == kTypeEllipsis;
}

// A set of 64-bit value hashes (open addressing, linear probing).
class HashSet {
 public:
  explicit HashSet(std::size_t expected) {
    std::size_t capacity = 64;
    while (capacity < 2 * expected) capacity *= 2;
    slots_.assign(capacity, 0);
  }
  // False if `h` was already present.
  bool insert(std::uint64_t h) {
    if (h == 0) h = 1;  // 0 marks an empty slot
    if (2 * (size_ + 1) > slots_.size()) grow();
    std::size_t i = h & (slots_.size() - 1);
    while (slots_[i] != 0) {
      if (slots_[i] == h) return false;
      i = (i + 1) & (slots_.size() - 1);
    }
    slots_[i] = h;
    ++size_;
    return true;
  }

 private:
  void grow() {
    std::vector<std::uint64_t> old;
    old.swap(slots_);
    slots_.assign(old.size() * 2, 0);
    size_ = 0;
    for (std::uint64_t h : old) {
      if (h != 0) insert(h);
    }
  }
  std::vector<std::uint64_t> slots_;
  std::size_t size_ = 0;
};

bool is_mapping(std::uint8_t type) { return type == kTypeDict || type == kTypeFrozenDict; }

struct Frame {
  std::uint8_t type;           // '(', ')', '[', '<', '>', '{', '}', 'c', ':'
  std::uint32_t left;          // children still to read (dicts, frozendicts: until a NULL)
  std::uint32_t objects_read;  // code objects: object fields read; frozendicts: keys and values
  std::uint32_t slot;          // its reference slot, or kNoSlot
  std::uint64_t hash;          // of its type and the children so far
};

class Inspector {
 public:
  Inspector(std::string_view data, CodeLayout layout)
      : data_(data), cursor_(data), shape_(code_shape(layout)), written_(data.size() / 8) {}

  Inspection run() {
    if (cursor_.remaining() == 0 || (static_cast<std::uint8_t>(data_[0]) & ~kFlagRef) != kTypeCode) {
      throw MarshalError("the top-level object is not a code object", 0);
    }
    read_object();
    while (!stack_.empty()) next_child();
    if (!cursor_.at_end()) {
      throw MarshalError(std::to_string(cursor_.remaining()) + " bytes after the object", cursor_.offset());
    }
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (!slots_[i].referenced) canonical_ = false;  // flagged but never referenced
    }
    return {filename(), canonical_ && !needs_tree_, !needs_tree_};
  }

 private:
  struct Slot {
    std::size_t offset;  // of the flagged object
    std::uint64_t hash = 0;
    bool complete = false;
    bool referenced = false;
  };

  // Reads the next child of the innermost open container, or closes it.
  void next_child() {
    Frame& top = stack_.back();
    if (is_mapping(top.type)) {
      if (cursor_.remaining() > 0 && (static_cast<std::uint8_t>(data_[cursor_.offset()]) & ~kFlagRef) == kTypeNull) {
        check_depth();  // the NULL is read one level down, like any child
        // It ends the object at a key, or drops the key before it: the canonical
        // writer never writes a key without its value, nor a flagged NULL.
        if (cursor_.byte("a NULL") != kTypeNull || top.objects_read % 2 == 1) canonical_ = false;
        close();
      } else {
        ++top.objects_read;
        read_object();  // may push, invalidating `top`
      }
      return;
    }
    if (top.left == 0) {
      close();
      return;
    }
    if (top.type == kTypeCode) {
      if (top.objects_read == shape_.objects_before_line) {
        top.hash = hash_bytes(top.hash, cursor_.take(4, "co_firstlineno"));
      }
      if (stack_.size() == 1 && top.objects_read == shape_.filename_index) filename_at_ = cursor_.offset();
      ++top.objects_read;
    }
    --top.left;
    read_object();  // may push, invalidating `top`
  }

  void close() {
    const Frame frame = stack_.back();
    stack_.pop_back();
    completed(frame.hash, frame.slot);
  }

  // An object written in full is complete, with value hash `hash`.
  void completed(std::uint64_t hash, std::uint32_t slot) {
    if (slot != kNoSlot) {
      slots_[slot].hash = hash;
      slots_[slot].complete = true;
    }
    if (!written_.insert(hash)) canonical_ = false;  // an equal value was written in full before
    feed_parent(hash);
  }

  void feed_parent(std::uint64_t hash) {
    if (!stack_.empty()) stack_.back().hash = mix(stack_.back().hash ^ hash);
  }

  std::uint32_t reserve(bool flagged, std::size_t offset) {
    if (!flagged) return kNoSlot;
    slots_.push_back({offset});
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
    const std::uint32_t slot = reserve(flagged, offset);
    stack_.push_back({type, children, 0, slot, mix(type + (static_cast<std::uint64_t>(children) << 8))});
  }

  // The canonical writer's string rules (writer.cpp, write_str).
  void check_str(std::uint8_t type, std::string_view text) {
    const bool ascii = is_ascii(text);
    const bool interned = type == kTypeInterned || type == kTypeAsciiInterned || type == kTypeShortAsciiInterned;
    const bool short_ascii = type == kTypeShortAscii || type == kTypeShortAsciiInterned;
    const bool long_ascii = type == kTypeAscii || type == kTypeAsciiInterned;
    if (short_ascii || long_ascii) {
      if (!ascii || long_ascii != (text.size() >= 256)) canonical_ = false;
    } else if (ascii || find_invalid_utf8(text) != std::string_view::npos) {
      canonical_ = false;
    }
    if (interned != canonically_interned(text)) canonical_ = false;
  }

  // The canonical writer's int rule: 'l' only for values outside int32, with
  // normalised 15-bit digits.
  void check_long(std::int32_t n, std::string_view digits) {
    const std::size_t count = digits.size() / 2;
    std::uint64_t magnitude = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const unsigned d =
          static_cast<unsigned char>(digits[2 * i]) | (static_cast<unsigned char>(digits[2 * i + 1]) << 8);
      if (d >= 0x8000 || (i == count - 1 && d == 0)) canonical_ = false;
      if (i < 3) magnitude |= static_cast<std::uint64_t>(d) << (15 * i);
    }
    const std::uint64_t int32_limit = n < 0 ? (1ULL << 31) : (1ULL << 31) - 1;
    if (count == 0 || (count <= 3 && magnitude <= int32_limit)) canonical_ = false;
  }

  void check_depth() const {
    if (stack_.size() + 1 > kMaxDepth) {
      throw MarshalError("objects nested deeper than " + std::to_string(kMaxDepth), cursor_.offset());
    }
  }

  void read_object() {
    check_depth();
    const std::size_t offset = cursor_.offset();
    const std::uint8_t code = cursor_.byte("a type code");
    const bool flagged = (code & kFlagRef) != 0;
    const std::uint8_t type = code & ~kFlagRef;
    if (is_singleton(type)) {
      if (flagged) canonical_ = false;  // singletons take no slot; the writer never flags them
      feed_parent(mix(type));
      return;
    }
    std::string_view payload;
    switch (type) {
      case kTypeNull: throw MarshalError("NULL object outside a dict", offset);
      case kTypeRef: {
        const std::int32_t index = cursor_.int32("a reference index");
        if (index < 0 || static_cast<std::size_t>(index) >= slots_.size() || !slots_[index].complete) {
          throw MarshalError("bad reference index " + std::to_string(index), offset);
        }
        slots_[index].referenced = true;
        feed_parent(slots_[index].hash);
        return;
      }
      case kTypeInt: payload = cursor_.take(4, "an int"); break;
      case kTypeBinaryFloat: payload = cursor_.take(8, "a float"); break;
      case kTypeBinaryComplex: payload = cursor_.take(16, "a complex"); break;
      case kTypeInt64:
        canonical_ = false;
        payload = cursor_.take(8, "an int64");
        break;
      case kTypeFloat:
        canonical_ = false;
        payload = cursor_.take(cursor_.byte("a float's length"), "a float");
        break;
      case kTypeComplex:
        canonical_ = false;
        cursor_.take(cursor_.byte("a complex's length"), "a complex");
        payload = cursor_.take(cursor_.byte("a complex's length"), "a complex");
        break;
      case kTypeLong: {
        const std::int32_t n = cursor_.int32("a long's digit count");
        const std::uint64_t count = n < 0 ? -static_cast<std::int64_t>(n) : n;
        if (count > cursor_.remaining() / 2) throw MarshalError("bad long digit count", offset);
        payload = cursor_.take(2 * count, "long digits");
        check_long(n, payload);
        payload = data_.substr(offset + 1, 4 + payload.size());  // the sign is in the count
        break;
      }
      case kTypeString: payload = cursor_.take(length("a bytes object"), "a bytes object"); break;
      case kTypeInterned:
      case kTypeUnicode:
      case kTypeAscii:
      case kTypeAsciiInterned:
        payload = cursor_.take(length("a str"), "a str");
        check_str(type, payload);
        break;
      case kTypeShortAscii:
      case kTypeShortAsciiInterned:
        payload = cursor_.take(cursor_.byte("a short str's length"), "a short str");
        check_str(type, payload);
        break;
      case kTypeSmallTuple: open(kTypeSmallTuple, cursor_.byte("a tuple's size"), flagged, offset); return;
      case kTypeTuple: {
        const std::uint32_t n = length("a tuple's size");
        if (n < 256) canonical_ = false;            // the writer uses ')' below 256 items
        open(kTypeSmallTuple, n, flagged, offset);  // hashed like ')': the same value
        return;
      }
      case kTypeList:
      case kTypeSet:
      case kTypeFrozenSet:
        needs_tree_ = true;
        open(type, length("a container's size"), flagged, offset);
        return;
      case kTypeDict:
        needs_tree_ = true;
        open(type, 0, flagged, offset);
        return;
      case kTypeFrozenDict:
        // Immutable and ordered: hashed like a tuple of its keys and values, so
        // the walk decides it (unless it holds a mutable object, which sets
        // needs_tree_ itself).
        open(type, 0, flagged, offset);
        return;
      case kTypeSlice: open(type, 3, flagged, offset); return;
      case kTypeCode: {
        const std::uint32_t slot = reserve(flagged, offset);
        const std::string_view ints = cursor_.take(4 * shape_.leading_ints, "a code object's int fields");
        stack_.push_back({type, shape_.objects, 0, slot, hash_bytes(mix(type), ints)});
        return;
      }
      default: throw MarshalError("unknown " + type_name(type), offset);
    }
    completed(hash_bytes(mix(type), payload), reserve(flagged, offset));
  }

  // The string at `filename_at_`, following one reference.
  std::string filename() {
    std::size_t at = filename_at_;
    std::uint8_t type = static_cast<std::uint8_t>(data_[at]) & ~kFlagRef;
    if (type == kTypeRef) {
      Cursor c(data_.substr(at + 1));
      at = slots_[static_cast<std::uint32_t>(c.int32("a reference index"))].offset;
      type = static_cast<std::uint8_t>(data_[at]) & ~kFlagRef;
    }
    Cursor c(data_.substr(at + 1));
    switch (type) {
      case kTypeUnicode:
      case kTypeInterned: return std::string(c.take(static_cast<std::uint32_t>(c.int32("length")), "a str"));
      case kTypeAscii:
      case kTypeAsciiInterned: return latin1_to_utf8(c.take(static_cast<std::uint32_t>(c.int32("length")), "a str"));
      case kTypeShortAscii:
      case kTypeShortAsciiInterned: return latin1_to_utf8(c.take(c.byte("length"), "a str"));
      default: throw MarshalError("co_filename is not a str (" + type_name(type) + ")", at);
    }
  }

  std::string_view data_;
  Cursor cursor_;
  CodeShape shape_;
  std::vector<Frame> stack_;
  std::vector<Slot> slots_;  // one per flagged object, in reservation (pre-)order
  HashSet written_;          // value hashes of the objects written in full
  std::size_t filename_at_ = 0;
  bool canonical_ = true;
  bool needs_tree_ = false;
};

}  // namespace

Inspection inspect(std::string_view data, CodeLayout layout) { return Inspector(data, layout).run(); }

}  // namespace pycemit::marshal::detail
