#include "writer.h"

#include "code_shape.h"
#include "integers.h"
#include "pycemit/marshal.h"
#include "text.h"
#include "type_codes.h"

namespace pycemit::marshal::detail {

namespace {

constexpr std::int32_t kNoIndex = -1;

void put_int32(std::string& out, std::int64_t value) {
  const auto v = static_cast<std::uint32_t>(value);
  for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
}

void put_type(std::string& out, std::uint8_t type, std::uint8_t flag) { out.push_back(static_cast<char>(type | flag)); }

std::uint8_t singleton_code(Kind kind) {
  switch (kind) {
    case Kind::None: return kTypeNone;
    case Kind::False: return kTypeFalse;
    case Kind::True: return kTypeTrue;
    case Kind::StopIteration: return kTypeStopIteration;
    default: return kTypeEllipsis;
  }
}

// Ints: 'i' when the value fits in int32, else 'l' (w_complex_object).
void write_int(std::string_view payload, std::uint8_t flag, std::string& out) {
  if (const auto small = int_payload_as_int32(payload)) {
    put_type(out, kTypeInt, flag);
    put_int32(out, *small);
    return;
  }
  const auto digits = static_cast<std::int64_t>((payload.size() - 1) / 2);
  put_type(out, kTypeLong, flag);
  put_int32(out, payload[0] == '-' ? -digits : digits);
  out.append(payload.substr(1));
}

// Strs: 'z'/'Z' (ASCII, < 256 bytes), 'a'/'A' (ASCII), else 'u'/'t' (UTF-8);
// the capital letter and 't' for interned strings.
void write_str(std::string_view text, bool interned, std::uint8_t flag, std::string& out) {
  if (!is_ascii(text)) {
    put_type(out, interned ? kTypeInterned : kTypeUnicode, flag);
    put_int32(out, static_cast<std::int64_t>(text.size()));
  } else if (text.size() < 256) {
    put_type(out, interned ? kTypeShortAsciiInterned : kTypeShortAscii, flag);
    out.push_back(static_cast<char>(text.size()));
  } else {
    put_type(out, interned ? kTypeAsciiInterned : kTypeAscii, flag);
    put_int32(out, static_cast<std::int64_t>(text.size()));
  }
  out.append(text);
}

}  // namespace

Writer::Writer(const Tree& tree)
    : tree_(tree), occurrences_(tree.node_count(), 0), ref_index_(tree.node_count(), kNoIndex) {}

std::string Writer::write(std::uint32_t root, bool check_depth) {
  std::string out;
  check_depth_ = check_depth;
  try {
    count_occurrences(root);
    emit(root, out);
  } catch (...) {
    reset();
    throw;
  }
  reset();
  return out;
}

// Both passes walk the same pre-order with a stack of frames, one per open
// container, so memory grows with the depth, not with the number of children.

// First pass: which values occur more than once in write order. A repeated
// occurrence will be a reference, so its children are not visited again.
void Writer::count_occurrences(std::uint32_t root) {
  frames_.clear();
  count(root, 1);
  while (!frames_.empty()) {
    Frame& frame = frames_.back();
    if (frame.next_child == tree_.node(frame.node).child_count) {
      frames_.pop_back();
      continue;
    }
    const std::uint32_t child = tree_.children(frame.node)[frame.next_child++];
    count(child, frame.depth + 1);  // may push: `frame` is not used after this
  }
}

void Writer::count(std::uint32_t index, std::uint32_t depth) {
  if (index < kSingletonCount) return;  // never flagged, never referenced
  if (occurrences_[index] > 0) {
    occurrences_[index] = 2;
    return;
  }
  occurrences_[index] = 1;
  touched_.push_back(index);
  if (tree_.node(index).child_count > 0) frames_.push_back(Frame{index, 0, depth});
}

// Second pass: the bytes, in the same order. Dicts and frozendicts end with
// NULL; code objects have co_firstlineno after their objects_before_line-th
// object (code_shape.h).
void Writer::emit(std::uint32_t root, std::string& out) {
  next_index_ = 0;
  frames_.clear();
  emit_object(root, 1, out);
  const std::uint32_t line_after = code_shape(tree_.layout()).objects_before_line;
  const std::uint32_t leading_ints = code_shape(tree_.layout()).leading_ints;
  while (!frames_.empty()) {
    Frame& frame = frames_.back();
    const Node& node = tree_.node(frame.node);
    if (frame.next_child == node.child_count) {
      if (is_mapping(node.kind)) {
        require_loadable_depth(frame);
        out.push_back(static_cast<char>(kTypeNull));
      }
      frames_.pop_back();
      continue;
    }
    if (node.kind == Kind::Code && frame.next_child == line_after) {
      out.append(tree_.payload(frame.node).substr(4 * leading_ints, 4));
    }
    require_loadable_depth(frame);
    const std::uint32_t child = tree_.children(frame.node)[frame.next_child++];
    emit_object(child, frame.depth + 1, out);  // may push: `frame` is not used after this
  }
}

// CPython refuses to load objects nested deeper than kMaxDepth.
void Writer::require_loadable_depth(const Frame& parent) const {
  if (!check_depth_ || parent.depth + 1 <= kMaxDepth) return;
  const Node& node = tree_.node(parent.node);
  throw MarshalError(std::string("the contents of the ") + kind_name(node.kind) +
                         " read here would be nested deeper than " + std::to_string(kMaxDepth) +
                         " in the canonical form (after reordering set elements)",
                     node.offset);
}

void Writer::emit_object(std::uint32_t index, std::uint32_t depth, std::string& out) {
  const Node& node = tree_.node(index);
  if (index < kSingletonCount) {
    out.push_back(static_cast<char>(singleton_code(node.kind)));
    return;
  }
  std::int32_t& ref = ref_index_[index];
  if (ref != kNoIndex) {
    out.push_back(static_cast<char>(kTypeRef));
    put_int32(out, ref);
    return;
  }
  std::uint8_t flag = 0;
  if (occurrences_[index] > 1) {
    ref = next_index_++;
    flag = kFlagRef;
  }
  write_header(index, flag, out);
  if (node.child_count > 0 || is_mapping(node.kind)) frames_.push_back(Frame{index, 0, depth});
}

// The type byte and everything before the children.
void Writer::write_header(std::uint32_t index, std::uint8_t flag, std::string& out) const {
  const Node& node = tree_.node(index);
  const std::string_view payload = tree_.payload(index);
  const auto count = static_cast<std::int64_t>(node.child_count);
  switch (node.kind) {
    case Kind::Int: write_int(payload, flag, out); break;
    case Kind::Float:
      put_type(out, kTypeBinaryFloat, flag);
      out.append(payload);
      break;
    case Kind::Complex:
      put_type(out, kTypeBinaryComplex, flag);
      out.append(payload);
      break;
    case Kind::Bytes:
      put_type(out, kTypeString, flag);
      put_int32(out, static_cast<std::int64_t>(payload.size()));
      out.append(payload);
      break;
    case Kind::Str: write_str(payload, node.interned, flag, out); break;
    case Kind::Tuple:
      if (count < 256) {
        put_type(out, kTypeSmallTuple, flag);
        out.push_back(static_cast<char>(count));
      } else {
        put_type(out, kTypeTuple, flag);
        put_int32(out, count);
      }
      break;
    case Kind::List:
      put_type(out, kTypeList, flag);
      put_int32(out, count);
      break;
    case Kind::Set:
      put_type(out, kTypeSet, flag);
      put_int32(out, count);
      break;
    case Kind::FrozenSet:
      put_type(out, kTypeFrozenSet, flag);
      put_int32(out, count);
      break;
    case Kind::Dict: put_type(out, kTypeDict, flag); break;
    case Kind::FrozenDict: put_type(out, kTypeFrozenDict, flag); break;
    case Kind::Code:
      put_type(out, kTypeCode, flag);
      out.append(payload.substr(0, 4 * code_shape(tree_.layout()).leading_ints));
      break;
    case Kind::Slice: put_type(out, kTypeSlice, flag); break;
    default: break;  // singletons: handled by the caller
  }
}

void Writer::reset() {
  for (std::uint32_t index : touched_) {
    occurrences_[index] = 0;
    ref_index_[index] = kNoIndex;
  }
  touched_.clear();
}

}  // namespace pycemit::marshal::detail
