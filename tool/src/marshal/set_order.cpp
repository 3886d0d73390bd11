#include "set_order.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "pycemit/marshal.h"
#include "writer.h"

namespace pycemit::marshal::detail {

namespace {

bool is_set(Kind kind) { return kind == Kind::Set || kind == Kind::FrozenSet; }

struct Reach {
  std::vector<bool> reachable;  // per node
  std::uint64_t weight = 0;     // summed size of the distinct reachable values
};

// Which nodes the root reaches, and how big the distinct values among them are.
Reach reach_from_root(const Tree& tree) {
  Reach reach;
  reach.reachable.assign(tree.node_count(), false);
  std::vector<std::uint32_t> stack{tree.root()};
  while (!stack.empty()) {
    const std::uint32_t index = stack.back();
    stack.pop_back();
    if (reach.reachable[index]) continue;
    reach.reachable[index] = true;
    const Node& node = tree.node(index);  // a distinct value (tree.h)
    reach.weight += 1 + node.payload_size + 4ull * node.child_count;
    for (std::uint32_t child : tree.children(index)) stack.push_back(child);
  }
  return reach;
}

// The positions of `keys` in sorted order, ties in their original order.
std::vector<std::uint32_t> sorted_positions(const std::vector<std::string>& keys) {
  std::vector<std::uint32_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0u);
  // std::string compares with char_traits<char>, i.e. as unsigned bytes.
  std::stable_sort(order.begin(), order.end(), [&keys](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
  return order;
}

void apply_order(std::span<std::uint32_t> elements, const std::vector<std::uint32_t>& order) {
  const std::vector<std::uint32_t> before(elements.begin(), elements.end());
  for (std::size_t i = 0; i < order.size(); ++i) elements[i] = before[order[i]];
}

}  // namespace

void order_set_elements(Tree& tree) {
  const Reach reach = reach_from_root(tree);
  const std::uint64_t budget = kSortKeyBudgetBase + kSortKeyBudgetFactor * reach.weight;
  std::uint64_t used = 0;
  Writer writer(tree);
  std::vector<std::string> keys;
  for (std::uint32_t index = kSingletonCount; index < tree.node_count(); ++index) {
    const Node& node = tree.node(index);
    if (!is_set(node.kind) || node.child_count < 2 || !reach.reachable[index]) continue;
    const std::span<std::uint32_t> elements = tree.set_elements(index);
    keys.clear();
    for (std::uint32_t element : elements) {
      keys.push_back(writer.write(element, /*check_depth=*/false));
      used += keys.back().size();
      if (used > budget) {
        throw MarshalError(std::string("the elements of the ") + kind_name(node.kind) +
                               " read here are too large to order canonically (over " + std::to_string(budget) +
                               " bytes of sort keys)",
                           node.offset);
      }
    }
    apply_order(elements, sorted_positions(keys));
  }
}

}  // namespace pycemit::marshal::detail
