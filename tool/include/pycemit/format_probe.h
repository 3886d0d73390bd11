// The format probe: before pycemit writes a pyc for an interpreter whose pyc
// format it does not know (InterpreterInfo::known_format false: a pre-release,
// or a version newer than this pycemit), it proves that its marshal reader and
// canonical writer handle what that interpreter writes (docs/pyc-format.md,
// section 10).
//
// The interpreter compiles a probe corpus (sources whose code objects use every
// code-object field and every marshal type code a compiler emits: ints of every
// size, floats, complex numbers, bytes, each kind of str, small and large tuples,
// frozensets, slices, nested code) at optimization levels 0, 1 and 2, and
// marshals a probe data object holding the type codes no compiler emits (lists,
// dicts, sets, StopIteration, frozendict where there is one, shared objects).
// pycemit canonicalises each with info.code_layout, checks the embedded path it
// finds, and the interpreter loads each canonical form back and compares it with
// what it wrote (a Verify request, interpreter_pool.h).
#pragma once

#include "pycemit/interpreter.h"

namespace pycemit {

class InterpreterPool;

// Runs the probe with `pool`'s interpreter (nothing else may be outstanding in
// the pool) and sets info.format_probed. Takes about one interpreter start plus
// a few milliseconds. Throws InterpreterError naming the interpreter, why its
// format is not known (info.format_note) and the first thing that differed
// ("the code object of probe 2 at level 1: marshal data unreadable with the
// 3.11 code layout: ..." or "...: object.co_consts[3]: int vs str").
void probe_format(InterpreterPool& pool, InterpreterInfo& info);

}  // namespace pycemit
