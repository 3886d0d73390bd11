// A small on-disk cache of interpreter facts (interpreter.h), so that a run with
// nothing to compile starts no interpreter at all.
//
// Directory: $PYCEMIT_CACHE_DIR, else $XDG_CACHE_HOME/pycemit, else
// $HOME/.cache/pycemit; one JSON file per interpreter. The key is the
// interpreter's real path with the device, inode, size, mtime and ctime (ns) of
// that file, so replacing or upgrading the interpreter invalidates it, plus
// the same identity of the pycemit binary (whose table of known formats
// decides) and $PYCEMIT_TREAT_AS_UNKNOWN. The format is decided again on each
// load (decide_format), from the cached source hashes. Only
// native executables (ELF) are cached: a script such as a pyenv shim or a
// wrapper may run a different interpreter on every call, so it is asked each time.
// The cache is an optimisation only: every failure to read or write it is
// silent, and interpreters that do start re-check the facts in their handshake.
#pragma once

#include <optional>
#include <string>

#include "pycemit/interpreter.h"

namespace pycemit {

class InterpreterPool;

// Facts cached for `executable` (an absolute path), if present and still valid.
std::optional<InterpreterInfo> load_cached_interpreter(const std::string& executable);

// Records `info` for info.executable. Never throws.
void store_cached_interpreter(const InterpreterInfo& info);

// The facts of `pool`'s interpreter: from the cache when valid (the pool then
// checks every interpreter it starts against them), else from a handshake with a
// first interpreter, followed by the format probe (format_probe.h) when its
// format is not a known release (then cached, with the probe's outcome).
// Throws InterpreterError.
InterpreterInfo learn_interpreter(InterpreterPool& pool);

}  // namespace pycemit
