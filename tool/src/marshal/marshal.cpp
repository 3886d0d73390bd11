// The public entry points of pycemit/marshal.h.
#include "pycemit/marshal.h"

#include "code_shape.h"
#include "inspect.h"
#include "reader.h"
#include "set_order.h"
#include "tree.h"
#include "writer.h"

namespace pycemit::marshal {

MarshalError::MarshalError(const std::string& message, std::size_t offset)
    : std::runtime_error(message + " at offset " + std::to_string(offset)), offset_(offset) {}

CodeLayout code_layout_for_minor(int minor) {
  if (minor >= 8 && minor <= 10) return CodeLayout::Py38;
  if (minor >= 11 && minor <= 15) return CodeLayout::Py311;
  throw std::invalid_argument("no marshal code layout for CPython 3." + std::to_string(minor) +
                              " (supported: 3.8 to 3.15)");
}

std::string canonicalize(std::string_view data, CodeLayout layout) {
  detail::Tree tree = detail::parse(data, layout);
  detail::order_set_elements(tree);
  return detail::Writer(tree).write(tree.root(), /*check_depth=*/true);
}

BodyInspection inspect_body(std::string_view data, CodeLayout layout) {
  detail::Inspection walk = detail::inspect(data, layout);
  const bool canonical = walk.decided ? walk.canonical : canonicalize(data, layout) == data;
  return {std::move(walk.code_filename), canonical};
}

std::string code_filename(std::string_view data, CodeLayout layout) {
  return detail::inspect(data, layout).code_filename;
}

}  // namespace pycemit::marshal
