// Whether an existing output is current, for the scan stage, decided without an interpreter: the header
// pycemit would write is computed in C++ (source hash or source stamp) and
// compared with the existing pyc's first 16 bytes; the existing pyc's embedded
// path (co_filename) must be the one pycemit would embed, and its body must be
// in canonical form (a pyc from compileall with the right header is rewritten).
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "pycemit/interpreter.h"
#include "pycemit/marshal.h"
#include "pycemit/pyc_header.h"
#include "pycemit/utf8.h"

namespace pycemit {

// The header for a pyc of `source` (its bytes as on disk) with stat `st`
// (st_mtim and st_size are used in timestamp mode) for interpreter `info`.
PycHeaderBytes expected_header(const InterpreterInfo& info, InvalidationMode mode, std::string_view source,
                               const struct stat& st);

// fsdecoded_utf8 (utf8.h): the co_filename marshal writes for an embedded path.

// What an existing output holds, compared with what pycemit would write.
enum class OutputState {
  Missing,       // no regular file there (or a symlink)
  Stale,         // another header or embedded path, or not readable as a pyc
  NotCanonical,  // the right header and embedded path, bytes not in canonical form
  Current,       // exactly what pycemit would write
};

// An output's state and, unless it is Current, why: one phrase for a person,
// e.g. "embedded path differs: has 'a.py', expected 'pkg/a.py'", "source hash
// differs (the source changed since it was compiled)", "magic number 3495
// (CPython 3.11), expected 3531 (CPython 3.12)", "invalidation mode timestamp,
// expected checked-hash", "not in canonical form (FLAG_REF bits, set order or
// interning as CPython's marshal left them)", "no file", "a symlink".
struct OutputInspection {
  OutputState state = OutputState::Missing;
  std::string cause;  // empty when Current
};

// Inspects the pyc at `pyc_path` for a source whose header would be `header`
// and embedded path (co_filename) `embedded_path` (file-system bytes). Reads
// the file once; no interpreter runs (marshal::inspect_body).
OutputInspection inspect_output(const std::string& pyc_path, const PycHeaderBytes& header,
                                std::string_view embedded_path, marshal::CodeLayout layout);

// inspect_output(...).state.
OutputState output_state(const std::string& pyc_path, const PycHeaderBytes& header, std::string_view embedded_path,
                         marshal::CodeLayout layout);

}  // namespace pycemit
