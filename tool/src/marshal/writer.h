// The canonical writer: marshal.c's w_object() order (pre-order), with
// back-references decided by value (node identity in the hash-consed tree)
// instead of reference counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tree.h"

namespace pycemit::marshal::detail {

class Writer {
 public:
  // `tree` must outlive the writer; set elements may be reordered between writes.
  explicit Writer(const Tree& tree);

  // The canonical bytes of `root` and everything under it, with a fresh
  // reference table: the first occurrence (in write order) of a value that
  // occurs more than once gets FLAG_REF and the next reference index, every
  // later occurrence is 'r' + that index, nothing else is flagged. Sets are
  // written in the element order the tree holds (see set_order.h).
  // With `check_depth`, throws MarshalError where an object would be nested
  // deeper than kMaxDepth, which CPython would refuse to load (possible only when
  // reordering set elements moved a deep object's first occurrence).
  std::string write(std::uint32_t root, bool check_depth);

 private:
  // A container being walked: its node, the index of its next child, its depth
  // (the top-level object is at depth 1, as in r_object).
  struct Frame {
    std::uint32_t node;
    std::uint32_t next_child;
    std::uint32_t depth;
  };

  void count_occurrences(std::uint32_t root);
  void count(std::uint32_t index, std::uint32_t depth);
  void emit(std::uint32_t root, std::string& out);
  void emit_object(std::uint32_t index, std::uint32_t depth, std::string& out);
  void write_header(std::uint32_t node, std::uint8_t flag, std::string& out) const;
  void require_loadable_depth(const Frame& parent) const;
  void reset();

  const Tree& tree_;
  // Per node, i.e. per value (tree.h):
  std::vector<std::uint8_t> occurrences_;  // 0, 1, or 2 (= more than one)
  std::vector<std::int32_t> ref_index_;    // assigned reference index, or -1
  std::vector<std::uint32_t> touched_;     // nodes to reset after a write
  std::vector<Frame> frames_;
  std::int32_t next_index_ = 0;
  bool check_depth_ = false;
};

}  // namespace pycemit::marshal::detail
