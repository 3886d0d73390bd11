#include "pycemit/canonical_pyc.h"

#include <stdexcept>

#include "pycemit/interpreter.h"
#include "pycemit/marshal.h"
#include "pycemit/pyc_header.h"

namespace pycemit {

std::string canonical_pyc(std::string_view data) {
  const PycHeader header = decode_header(data);
  const std::uint16_t magic = static_cast<std::uint16_t>(header.magic[0] | (header.magic[1] << 8));
  const auto format = format_for_magic_number(magic);
  if (!format || header.magic[2] != '\r' || header.magic[3] != '\n') {
    throw std::runtime_error("unknown magic number " + std::to_string(magic) +
                             " (not a pyc of CPython 3.8 or later or of a PyPy pycemit knows)");
  }
  std::string out(data.substr(0, kPycHeaderSize));
  out += marshal::canonicalize(data.substr(kPycHeaderSize), format->format->code_layout);
  return out;
}

}  // namespace pycemit
