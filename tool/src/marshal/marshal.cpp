// The public entry points of pycemit/marshal.h.
#include "pycemit/marshal.h"

#include "code_shape.h"
#include "reader.h"
#include "set_order.h"
#include "tree.h"
#include "writer.h"

namespace pycemit::marshal {

MarshalError::MarshalError(const std::string& message, std::size_t offset)
    : std::runtime_error(message + " at offset " + std::to_string(offset)), offset_(offset) {}

CodeLayout code_layout_for_minor(int minor) {
  if (minor >= 8 && minor <= 10) return CodeLayout::Py38;
  if (minor >= 11 && minor <= 14) return CodeLayout::Py311;
  throw std::invalid_argument("no marshal code layout for CPython 3." + std::to_string(minor) +
                              " (supported: 3.8 to 3.14)");
}

std::string canonicalize(std::string_view data, CodeLayout layout) {
  detail::Tree tree = detail::parse(data, layout);
  detail::order_set_elements(tree);
  return detail::Writer(tree).write(tree.root(), /*check_depth=*/true);
}

std::string code_filename(std::string_view data, CodeLayout layout) {
  const detail::Tree tree = detail::parse(data, layout);
  const detail::Node& root = tree.node(tree.root());
  if (root.kind != detail::Kind::Code) {
    throw MarshalError(std::string("the top-level object is a ") + detail::kind_name(root.kind) +
                           ", not a code object",
                       root.offset);
  }
  const std::uint32_t filename = tree.children(tree.root())[detail::code_shape(layout).filename_index];
  const detail::Node& node = tree.node(filename);
  if (node.kind != detail::Kind::Str) {
    // Singletons are shared nodes without an offset of their own.
    const std::size_t offset = filename < detail::kSingletonCount ? root.offset : node.offset;
    throw MarshalError(std::string("co_filename is a ") + detail::kind_name(node.kind) + ", not a str",
                       offset);
  }
  return std::string(tree.payload(filename));
}

}  // namespace pycemit::marshal
