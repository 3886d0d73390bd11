// Up-to-date checks for the plan stage, done without an interpreter: the header
// pycemit would write is computed in C++ (source hash or source stamp) and
// compared with the existing pyc's first 16 bytes; the existing pyc's embedded
// path (co_filename) must be the one pycemit would embed.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "pycemit/interpreter.h"
#include "pycemit/marshal.h"
#include "pycemit/pyc_header.h"

namespace pycemit {

// The header for a pyc of `source` (its bytes as on disk) with stat `st`
// (st_mtim and st_size are used in timestamp mode) for interpreter `info`.
PycHeaderBytes expected_header(const InterpreterInfo& info, InvalidationMode mode, std::string_view source,
                               const struct stat& st);

// The UTF-8 bytes marshal writes for os.fsdecode(path): valid UTF-8 passes
// through; every other byte b becomes the lone surrogate U+DC00+b (Python's
// surrogateescape), encoded as UTF-8 with surrogatepass, as marshal does.
std::string fsdecoded_utf8(std::string_view path);

// Whether the pyc at `pyc_path` starts with `header` and its top-level code
// object's co_filename is `embedded_path` (file-system bytes). False when the
// file is missing, unreadable, truncated or not readable as marshal data.
bool pyc_is_current(const std::string& pyc_path, const PycHeaderBytes& header, std::string_view embedded_path,
                    marshal::CodeLayout layout);

}  // namespace pycemit
