// libFuzzer target for the marshal reader and canonical writer: any input must
// either be rejected with MarshalError or give canonical bytes that are read
// back to themselves (idempotence). Anything else (a crash, a sanitizer report,
// another exception, a timeout, memory beyond the limits run-fuzzer sets) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pycemit/marshal.h"

namespace {

using pycemit::marshal::canonicalize;
using pycemit::marshal::code_filename;
using pycemit::marshal::CodeLayout;
using pycemit::marshal::MarshalError;

void check_layout(std::string_view input, CodeLayout layout) {
  std::string once;
  try {
    once = canonicalize(input, layout);
  } catch (const MarshalError&) {
    return;
  }
  std::string twice;
  try {
    twice = canonicalize(once, layout);
  } catch (const MarshalError& e) {
    std::fprintf(stderr, "canonical output rejected: %s\n", e.what());
    std::abort();
  }
  if (twice != once) {
    std::fprintf(stderr, "canonicalize is not idempotent (%zu vs %zu bytes)\n", once.size(), twice.size());
    std::abort();
  }
}

void check_filename(std::string_view input, CodeLayout layout) {
  try {
    code_filename(input, layout);
  } catch (const MarshalError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (CodeLayout layout : {CodeLayout::Py38, CodeLayout::Py311}) {
    check_layout(input, layout);
    check_filename(input, layout);
  }
  return 0;
}
