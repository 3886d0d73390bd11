// The entry check (compile_cache_entry.h): marshal and UTF-8 rules only, so
// the marshal fuzzer (tests/fuzz) runs hostile entries through it.
#include "pycemit/compile_cache_entry.h"

#include "pycemit/utf8.h"

namespace pycemit {

std::optional<std::string> compile_cache_entry_problem(std::string_view entry, marshal::CodeLayout layout,
                                                       std::string_view embedded_path) {
  if (entry.size() > kMaxCompileCacheEntryBytes) {
    return "larger than " + std::to_string(kMaxCompileCacheEntryBytes) + " bytes";
  }
  try {
    const marshal::BodyInspection body = marshal::inspect_body(entry, layout);
    if (!body.canonical) return std::string("not in canonical form");
    if (body.code_filename != fsdecoded_utf8(embedded_path)) {
      return "its code object is for \"" + body.code_filename + "\", not \"" + fsdecoded_utf8(embedded_path) + "\"";
    }
  } catch (const marshal::MarshalError& e) {
    return std::string("not a marshalled code object: ") + e.what();
  }
  return std::nullopt;
}

}  // namespace pycemit
