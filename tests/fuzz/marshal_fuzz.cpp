// libFuzzer target for the marshal reader, the canonical writer, the
// inspection walk and the compile cache's entry check (compile_cache_entry.h),
// which is what stands between a hostile cache entry and a pyc: any input must either be rejected with MarshalError or
// give canonical bytes that are read back to themselves (idempotence), and the inspection walk must call exactly those
// inputs canonical that canonicalize() leaves unchanged. Anything else (a crash, a sanitizer report, another exception,
// a timeout, memory beyond the limits run-fuzzer sets) is a bug. The entry check must accept an input only when it is
// canonical and its co_filename is the one expected.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "pycemit/compile_cache_entry.h"
#include "pycemit/marshal.h"

namespace {

using pycemit::marshal::BodyInspection;
using pycemit::marshal::canonicalize;
using pycemit::marshal::code_filename;
using pycemit::marshal::CodeLayout;
using pycemit::marshal::inspect_body;
using pycemit::marshal::MarshalError;

// inspect_body(), or nothing when it rejects the stream with MarshalError.
std::optional<BodyInspection> inspected(std::string_view data, CodeLayout layout) {
  try {
    return inspect_body(data, layout);
  } catch (const MarshalError&) {
    return std::nullopt;
  }
}

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
  // The inspection walk must decide canonical form exactly as canonicalize().
  // It only inspects code objects at the top level, and also needs their
  // co_filename to be a str: a stream without one is rejected, in its input
  // form and its canonical form alike.
  if (!input.empty() && (static_cast<unsigned char>(input[0]) & 0x7f) == 'c') {
    const std::optional<BodyInspection> before = inspected(input, layout);
    const std::optional<BodyInspection> after = inspected(once, layout);
    if (before.has_value() != after.has_value()) {
      std::fprintf(stderr, "inspect_body accepts only one of the input and its canonical form\n");
      std::abort();
    }
    if (before && (before->canonical != (input == once) || !after->canonical)) {
      std::fprintf(stderr, "inspect_body disagrees with canonicalize\n");
      std::abort();
    }
  }
}

void check_filename(std::string_view input, CodeLayout layout) {
  try {
    code_filename(input, layout);
  } catch (const MarshalError&) {
  }
}

// The entry check, expecting the input's own co_filename (so that acceptance
// is reachable) and another one (never accepted).
void check_cache_entry(std::string_view input, CodeLayout layout) {
  const std::optional<BodyInspection> body = inspected(input, layout);
  const std::string filename = body ? body->code_filename : "pkg/mod.py";
  const bool accepted = !pycemit::compile_cache_entry_problem(input, layout, filename).has_value();
  if (accepted && (!body || !body->canonical || canonicalize(input, layout) != input)) {
    std::fprintf(stderr, "the entry check accepted a non-canonical or unreadable entry\n");
    std::abort();
  }
  if (body && body->canonical && !accepted && filename.find('\xed') == std::string::npos) {
    std::fprintf(stderr, "the entry check refused a canonical entry for its own co_filename\n");
    std::abort();
  }
  if (!pycemit::compile_cache_entry_problem(input, layout, filename + "x").has_value()) {
    std::fprintf(stderr, "the entry check accepted an entry for another co_filename\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (CodeLayout layout : {CodeLayout::Py38, CodeLayout::Py311, CodeLayout::PyPy311}) {
    check_layout(input, layout);
    check_filename(input, layout);
    check_cache_entry(input, layout);
  }
  return 0;
}
