"""Verifies pycs from inside the target interpreter (CPython 3.8+ syntax only).

Usage: python verify_pycs.py EXPECTATIONS.json
EXPECTATIONS.json is a list of objects:
  {"source": path of the .py, "pyc": path of the pyc, "optimize": 0|1|2,
   "mode": "checked-hash"|"unchecked-hash"|"timestamp", "embedded": co_filename,
   "same_body_as": optional path of an already verified pyc}
For each, checks what the import system checks and more:
  - magic number is this interpreter's importlib.util.MAGIC_NUMBER;
  - flags match the mode; the source hash (importlib.util.source_hash) or the
    source mtime/size match the source;
  - the body loads with marshal and nothing follows it;
  - the code object equals this interpreter's own
    compile(source, embedded, "exec", dont_inherit=True, optimize=N), compared
    recursively: every co_* attribute, constant types and values (float bits,
    nested code objects), names, line and exception tables, co_filename.
Prints one line per problem; exit status 1 if any, else prints "ok N".
"""
import importlib.util
import io
import json
import marshal
import os
import struct
import sys
import types

FLAGS = {"timestamp": 0, "unchecked-hash": 1, "checked-hash": 3}


def const_key(value):
    """A comparable description of a constant that keeps its exact type and bits."""
    if isinstance(value, types.CodeType):
        return ("code", code_key(value))
    if isinstance(value, float):
        return ("float", struct.pack("<d", value))
    if isinstance(value, complex):
        return ("complex", struct.pack("<dd", value.real, value.imag))
    if isinstance(value, tuple):
        return ("tuple", tuple(const_key(v) for v in value))
    if isinstance(value, frozenset):
        return ("frozenset", tuple(sorted(repr(const_key(v)) for v in value)))
    if isinstance(value, slice):
        return ("slice", const_key(value.start), const_key(value.stop), const_key(value.step))
    return (type(value).__name__, value)


def code_key(code):
    """Every co_* attribute of `code` (and its line/position tables), recursively."""
    items = []
    for name in sorted(dir(code)):
        if not name.startswith("co_"):
            continue
        value = getattr(code, name)
        if name == "co_consts":
            value = tuple(const_key(v) for v in value)
        elif name in ("co_lines", "co_positions"):
            value = tuple(value())
        elif callable(value):
            continue
        items.append((name, value))
    return tuple(items)


def problems_of(expectation):
    problems = []
    with open(expectation["pyc"], "rb") as f:
        data = f.read()
    with open(expectation["source"], "rb") as f:
        source = f.read()
    if data[:4] != importlib.util.MAGIC_NUMBER:
        return ["bad magic %r" % data[:4]]
    flags = struct.unpack("<I", data[4:8])[0]
    if flags != FLAGS[expectation["mode"]]:
        problems.append("flags %d, expected %d" % (flags, FLAGS[expectation["mode"]]))
    if expectation["mode"] == "timestamp":
        st = os.stat(expectation["source"])
        mtime, size = struct.unpack("<II", data[8:16])
        if mtime != (int(st.st_mtime) & 0xFFFFFFFF) or size != (st.st_size & 0xFFFFFFFF):
            problems.append("timestamp fields %d/%d do not match the source" % (mtime, size))
    elif data[8:16] != importlib.util.source_hash(source):
        problems.append("source hash does not match")
    if expectation.get("same_body_as"):
        # The marshal body does not depend on the invalidation mode: when it was
        # verified in another pyc, identical bytes are all that is left to check.
        with open(expectation["same_body_as"], "rb") as f:
            if f.read()[16:] != data[16:]:
                problems.append("body differs from %s" % expectation["same_body_as"])
        return problems
    body = io.BytesIO(data[16:])
    try:
        loaded = marshal.load(body)
    except Exception as e:
        return problems + ["marshal.load failed: %r" % e]
    if body.tell() != len(data) - 16:
        problems.append("%d bytes after the code object" % (len(data) - 16 - body.tell()))
    expected = compile(source, expectation["embedded"], "exec", dont_inherit=True, optimize=expectation["optimize"])
    if code_key(loaded) != code_key(expected):
        problems.append("code object differs from compile() (embedded path %r, level %d)"
                        % (expectation["embedded"], expectation["optimize"]))
    return problems


def main():
    with open(sys.argv[1]) as f:
        expectations = json.load(f)
    failed = 0
    for expectation in expectations:
        for problem in problems_of(expectation):
            failed += 1
            print("%s: %s" % (expectation["pyc"], problem))
    if failed:
        sys.exit(1)
    print("ok %d" % len(expectations))


main()
