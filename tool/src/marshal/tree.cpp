#include "tree.h"

#include "hashing.h"

#include <algorithm>
#include <cstring>

namespace pycemit::marshal::detail {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::False: return "False";
    case Kind::True: return "True";
    case Kind::StopIteration: return "StopIteration";
    case Kind::Ellipsis: return "Ellipsis";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::Complex: return "complex";
    case Kind::Bytes: return "bytes";
    case Kind::Str: return "str";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Set: return "set";
    case Kind::FrozenSet: return "frozenset";
    case Kind::Code: return "code object";
    case Kind::Slice: return "slice";
    case Kind::FrozenDict: return "frozendict";
  }
  return "object";
}

bool is_mutable(Kind kind) { return kind == Kind::List || kind == Kind::Dict || kind == Kind::Set; }

bool is_mapping(Kind kind) { return kind == Kind::Dict || kind == Kind::FrozenDict; }

Tree::Tree(CodeLayout layout) : layout_(layout) {
  for (std::uint32_t k = 0; k < kSingletonCount; ++k) {
    Node node;
    node.kind = static_cast<Kind>(k);
    nodes_.push_back(node);
  }
}

std::string_view Tree::payload(std::uint32_t index) const {
  const Node& n = nodes_[index];
  return std::string_view(payloads_).substr(n.payload_begin, n.payload_size);
}

std::span<const std::uint32_t> Tree::children(std::uint32_t index) const {
  const Node& n = nodes_[index];
  return std::span<const std::uint32_t>(children_).subspan(n.children_begin, n.child_count);
}

std::span<std::uint32_t> Tree::set_elements(std::uint32_t index) {
  const Node& n = nodes_[index];
  return std::span<std::uint32_t>(children_).subspan(n.children_begin, n.child_count);
}

std::uint32_t Tree::add(Kind kind, bool interned, std::uint32_t offset, std::string_view payload,
                        std::span<const std::uint32_t> children) {
  Node node;
  node.kind = kind;
  node.interned = interned;
  node.offset = offset;
  node.payload_begin = static_cast<std::uint32_t>(payloads_.size());
  node.payload_size = static_cast<std::uint32_t>(payload.size());
  node.children_begin = static_cast<std::uint32_t>(children_.size());
  node.child_count = static_cast<std::uint32_t>(children.size());
  node.has_identity = is_mutable(kind);
  for (std::uint32_t child : children) {
    node.has_identity = node.has_identity || nodes_[child].has_identity;
  }
  payloads_.append(payload);
  children_.insert(children_.end(), children.begin(), children.end());
  if (kind == Kind::Set || kind == Kind::FrozenSet) {
    std::sort(children_.begin() + node.children_begin, children_.end());
  }
  const auto index = static_cast<std::uint32_t>(nodes_.size());
  nodes_.push_back(node);
  if (!node.has_identity) {
    const std::uint32_t existing = values_.find_or_add(*this, index, value_hash(index));
    if (existing != index) {
      nodes_.pop_back();
      payloads_.resize(node.payload_begin);
      children_.resize(node.children_begin);
      return existing;
    }
  }
  return index;
}

std::uint64_t Tree::value_hash(std::uint32_t index) const {
  const Node& n = nodes_[index];
  std::uint64_t h = mix(static_cast<std::uint64_t>(n.kind) * 2 + (n.interned ? 1 : 0));
  h = hash_bytes(h, payload(index));
  for (std::uint32_t child : children(index)) {
    h = mix(h ^ child);
  }
  return h;
}

bool Tree::same_value_key(std::uint32_t a, std::uint32_t b) const {
  const Node& x = nodes_[a];
  const Node& y = nodes_[b];
  if (x.kind != y.kind || x.interned != y.interned || x.child_count != y.child_count || payload(a) != payload(b)) {
    return false;
  }
  auto xs = children(a);
  auto ys = children(b);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (xs[i] != ys[i]) return false;
  }
  return true;
}

std::uint32_t ValueTable::find_or_add(const Tree& tree, std::uint32_t node, std::uint64_t hash) {
  if ((used_ + 1) * 2 > slots_.size()) grow();
  const auto hash32 = static_cast<std::uint32_t>(hash);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash32 & mask;; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (slot.node_plus_one == 0) {
      slot.node_plus_one = node + 1;
      slot.hash = hash32;
      ++used_;
      return node;
    }
    if (slot.hash == hash32 && tree.same_value_key(slot.node_plus_one - 1, node)) {
      return slot.node_plus_one - 1;
    }
  }
}

void ValueTable::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.node_plus_one == 0) continue;
    std::size_t i = slot.hash & mask;
    while (slots_[i].node_plus_one != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

}  // namespace pycemit::marshal::detail
