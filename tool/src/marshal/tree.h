// The object tree a marshal stream is read into. Back-references ('r') are
// resolved to the node they name, and the tree is hash-consed: objects that the
// canonical writer may merge (same type, same variant, same value; see
// marshal.h) are one node, however often and in whatever form the input wrote
// them. Mutable objects (list, dict, set) and objects holding one (a tuple,
// frozenset or frozendict that contains a list, say) keep a node per object
// written in full. So a node's index is its value id: two nodes are
// equal values exactly when they are the same node. Value ids are computed
// bottom-up: a node is looked up by its kind, variant, payload and its
// children's indices when it is complete.
//
// Storage is flat (a vector of small nodes plus two arenas), and a node equal
// to an existing one is dropped as soon as it is built, so that no stream can
// make the tree much bigger than itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pycemit/marshal.h"

namespace pycemit::marshal::detail {

enum class Kind : std::uint8_t {
  // The singletons marshal.c writes without FLAG_REF and never as 'r'. Their
  // nodes are the first kSingletonCount nodes of every tree, in this order.
  None,
  False,
  True,
  StopIteration,
  Ellipsis,
  // Everything else.
  Int,         // payload: see integers.h
  Float,       // payload: the 8 bytes of the IEEE double, little-endian
  Complex,     // payload: real then imaginary part, 8 bytes each, little-endian
  Bytes,       // payload: the bytes
  Str,         // payload: the text in UTF-8 (lone surrogates as "surrogatepass")
  Tuple,       // children: the items
  List,        // children: the items (mutable)
  Dict,        // children: key, value, key, value... (mutable)
  Set,         // children: the elements (mutable)
  FrozenSet,   // children: the elements
  Code,        // payload: the int32 fields, little-endian; children: the objects
  Slice,       // children: start, stop, step (marshal version 5)
  FrozenDict,  // children: key, value, key, value... in iteration order (marshal
               // version 6, PEP 814); immutable, so merged like a tuple
};

inline constexpr std::uint32_t kSingletonCount = 5;

// "tuple", "code object", ...: for error messages.
const char* kind_name(Kind kind);

// Whether objects of this kind are mutable, so keep their identity: marshal.h
// forbids merging them with any other object.
bool is_mutable(Kind kind);

// Dict and FrozenDict: children are key, value pairs, and the stream ends the
// object with a NULL ('0') instead of giving a count (Python/marshal.c).
bool is_mapping(Kind kind);

struct Node {
  Kind kind = Kind::None;
  bool interned = false;      // Str only: written as 'Z'/'A'/'t'
  bool has_identity = false;  // mutable, or holds a mutable object: never merged
  std::uint32_t offset = 0;   // of its type byte in the input, for messages
  std::uint32_t payload_begin = 0;
  std::uint32_t payload_size = 0;
  std::uint32_t children_begin = 0;
  std::uint32_t child_count = 0;
};

// Hash-consing: an open-addressing table of the nodes that may be merged, keyed
// by (kind, interned, payload, the indices of the children). It holds one
// node per value: the first one read.
class ValueTable {
 public:
  // The node of the table equal to `node`, or `node` itself after adding it.
  // `hash` must be the node's value hash (Tree computes it).
  std::uint32_t find_or_add(const class Tree& tree, std::uint32_t node, std::uint64_t hash);

 private:
  struct Slot {
    std::uint32_t node_plus_one = 0;  // 0: empty
    std::uint32_t hash = 0;           // low 32 bits of the value hash
  };
  void grow();

  std::vector<Slot> slots_;
  std::size_t used_ = 0;
};

class Tree {
 public:
  explicit Tree(CodeLayout layout);

  CodeLayout layout() const { return layout_; }
  std::uint32_t root() const { return root_; }
  void set_root(std::uint32_t node) { root_ = node; }

  std::size_t node_count() const { return nodes_.size(); }
  const Node& node(std::uint32_t index) const { return nodes_[index]; }
  std::string_view payload(std::uint32_t index) const;
  std::span<const std::uint32_t> children(std::uint32_t index) const;
  // The children of a set or frozenset, which the writer reorders in place.
  std::span<std::uint32_t> set_elements(std::uint32_t index);

  // The node of a singleton kind (None ... Ellipsis).
  static std::uint32_t singleton(Kind kind) { return static_cast<std::uint32_t>(kind); }

  // Adds a complete node (its children are complete nodes of this tree) and
  // returns its index; when it may be merged and an equal node exists, returns
  // that node instead and keeps nothing of the new one. Mutable nodes, and nodes
  // holding one, are never merged. The elements of a set or frozenset are
  // stored sorted by node index, so that equal frozensets are equal whatever
  // order the input listed them in; the items of a dict or frozendict keep
  // their order (it is the iteration order).
  std::uint32_t add(Kind kind, bool interned, std::uint32_t offset, std::string_view payload,
                    std::span<const std::uint32_t> children);

  // Whether two nodes have the same key in the value table.
  bool same_value_key(std::uint32_t a, std::uint32_t b) const;

 private:
  std::uint64_t value_hash(std::uint32_t index) const;

  CodeLayout layout_;
  std::uint32_t root_ = 0;
  std::vector<Node> nodes_;
  std::string payloads_;
  std::vector<std::uint32_t> children_;
  ValueTable values_;
};

}  // namespace pycemit::marshal::detail
