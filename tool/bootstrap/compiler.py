# pycemit's compiler program: runs inside the target interpreter (CPython or
# PyPy, Python 3.8+), embedded in the pycemit binary and started as
#   python -S -s -B -c <stub> <this program>
# with PYTHONHASHSEED=0, no other PYTHON* variables, and "/" as working directory.
# The stub (tool/src/interpreter_process.cpp) refuses interpreters that are
# neither CPython nor PyPy of Python 3.8 or later before this program is parsed.
#
# Protocol (the C++ side is tool/src/interpreter_protocol.cpp): frames on fd 0 / fd 1.
#   frame   = u32 LE payload length, payload
#   payload = 1 byte kind, then fields; field = u32 LE length, bytes.
#   Integers travel as ASCII decimal fields.
# interpreter -> pycemit, once at start:
#   'H' hello: name, value, name, value, ... (names below, in hello_fields)
# pycemit -> interpreter:
#   'C' compile: request id, optimization level, embedded path (file-system
#       bytes), source bytes
#   'D' dump: request id, a Python expression; marshal.dumps of its value (the
#       format probe's data objects, docs/pyc-format.md section 10)
#   'V' verify: request id, marshal bytes as this interpreter wrote them, the
#       canonical bytes pycemit made of them
# interpreter -> pycemit, one reply per request:
#   'K' done: request id, then for 'C': marshal.dumps(code), then per warning:
#       category, line, message; for 'D': the marshal bytes; for 'V': nothing
#   'E' failed: request id, exception type, message, line, column (offset as
#       CPython reports it; empty when unknown). A 'V' whose objects differ fails
#       with type "VerifyMismatch" and names the first difference.
import importlib.util
import marshal
import os
import struct
import sys
import types
import warnings

# Data whose importlib.util.source_hash the hello reports: pycemit checks that
# it computes the same 8 bytes (docs/pyc-format.md, section 3).
SOURCE_HASH_PROBES = [b"", b"x = 1\n", b"pycemit source-hash probe: \x00\xff\r\n" * 9]


def read_exactly(stream, n):
    data = stream.read(n)
    if data is None or len(data) != n:
        raise EOFError
    return data


def read_frame(stream):
    (length,) = struct.unpack("<I", read_exactly(stream, 4))
    payload = read_exactly(stream, length)
    fields = []
    pos = 1
    while pos < length:
        (n,) = struct.unpack_from("<I", payload, pos)
        fields.append(payload[pos + 4:pos + 4 + n])
        pos += 4 + n
    return payload[0:1], fields


def write_frame(stream, kind, fields):
    parts = [kind]
    for f in fields:
        if isinstance(f, str):
            f = f.encode("utf-8", "surrogateescape")
        elif isinstance(f, int):
            f = str(f).encode("ascii")
        parts.append(struct.pack("<I", len(f)))
        parts.append(f)
    payload = b"".join(parts)
    stream.write(struct.pack("<I", len(payload)) + payload)
    stream.flush()


def free_threaded():
    try:
        import sysconfig
        return 1 if sysconfig.get_config_var("Py_GIL_DISABLED") else 0
    except Exception:
        return 0


def hello_fields():
    v = sys.version_info
    iv = sys.implementation.version
    tag = sys.implementation.cache_tag
    pairs = [
        ("implementation", sys.implementation.name),
        ("version", "%d.%d.%d" % (v.major, v.minor, v.micro)),
        ("release_level", v.releaselevel),
        ("serial", v.serial),
        ("implementation_version", "%d.%d.%d" % (iv.major, iv.minor, iv.micro)),
        ("cache_tag", "" if tag is None else tag),
        ("has_cache_tag", 0 if tag is None else 1),
        ("magic", importlib.util.MAGIC_NUMBER),
        ("marshal_version", marshal.version),
        ("free_threaded", free_threaded()),
        ("executable", sys.executable or ""),
    ]
    for data in SOURCE_HASH_PROBES:
        pairs.append(("source_hash_data", data))
        pairs.append(("source_hash", importlib.util.source_hash(data)))
    fields = []
    for name, value in pairs:
        fields += [name, value]
    return fields


def error_fields(request_id, exc):
    line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
    column = getattr(exc, "offset", None) if isinstance(exc, SyntaxError) else None
    message = exc.msg if isinstance(exc, SyntaxError) and exc.msg else str(exc)
    return [request_id, type(exc).__name__, message,
            "" if line is None else line, "" if column is None else column]


def compile_one(request_id, optimize, path, source):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = compile(source, path, "exec", dont_inherit=True, optimize=optimize)
    fields = [request_id, marshal.dumps(code)]
    for w in caught:
        fields += [w.category.__name__, w.lineno or 0, str(w.message)]
    return fields


class Mismatch(Exception):
    pass


# Types compared with == once their types are equal.
SIMPLE_TYPES = (str, bytes, int, bool, type(None), type(Ellipsis))
# co_* attributes derived from others that are compared: co_lines() and
# co_positions() from co_code, co_linetable and co_firstlineno; co_lnotab from
# co_linetable where there is one (3.10+).
DERIVED_CODE_FIELDS = {"co_lines", "co_positions"}
_code_fields = []


def code_fields(code):
    """The co_* data attributes of code objects, once per process."""
    if not _code_fields:
        names = [n for n in sorted(dir(code)) if n.startswith("co_") and n not in DERIVED_CODE_FIELDS]
        if "co_linetable" in names and "co_lnotab" in names:
            names.remove("co_lnotab")
        _code_fields.extend(n for n in names if not callable(getattr(code, n)))
    return _code_fields


def describe(where):
    """'object.co_consts[3]' from the (parent, step) chain of a compared pair."""
    steps = []
    while where is not None:
        where, step = where
        steps.append(step)
    return "".join(reversed(steps))


def same(a, b):
    """Raises Mismatch naming the first place where `a` and `b` differ: exact
    types, floats and complex numbers by their bits, containers item by item
    (sets and frozensets as sets), code objects by every co_* attribute. An
    explicit stack (pushed in reverse, so items are compared in order), so that
    deeply nested code needs no deep recursion."""
    stack = [(a, b, (None, "object"))]
    while stack:
        a, b, where = stack.pop()
        kind = type(a)
        if kind is not type(b):
            raise Mismatch("%s: %s vs %s" % (describe(where), kind.__name__, type(b).__name__))
        if kind in SIMPLE_TYPES:
            if a != b:
                raise Mismatch("%s: %r vs %r" % (describe(where), a, b))
        elif kind is types.CodeType:
            for name in reversed(code_fields(a)):
                stack.append((getattr(a, name), getattr(b, name), (where, "." + name)))
        elif kind is float:
            if struct.pack("<d", a) != struct.pack("<d", b):
                raise Mismatch("%s: %r vs %r" % (describe(where), a, b))
        elif kind is complex:
            if struct.pack("<dd", a.real, a.imag) != struct.pack("<dd", b.real, b.imag):
                raise Mismatch("%s: %r vs %r" % (describe(where), a, b))
        elif kind is tuple or kind is list:
            if len(a) != len(b):
                raise Mismatch("%s: %d vs %d items" % (describe(where), len(a), len(b)))
            for i in range(len(a) - 1, -1, -1):
                stack.append((a[i], b[i], (where, "[%d]" % i)))
        elif kind is set or kind is frozenset:
            if a != b or sorted(map(repr, a)) != sorted(map(repr, b)):
                raise Mismatch("%s: %r vs %r" % (describe(where), a, b))
        elif isinstance(a, dict) or kind.__name__ == "frozendict":
            if list(a.keys()) != list(b.keys()):
                raise Mismatch("%s: keys %r vs %r" % (describe(where), list(a.keys()), list(b.keys())))
            for key in reversed(list(a)):
                stack.append((a[key], b[key], (where, "[%r]" % (key,))))
        elif kind is slice:
            stack.append(((a.start, a.stop, a.step), (b.start, b.stop, b.step), where))
        elif a != b:
            raise Mismatch("%s: %r vs %r" % (describe(where), a, b))


def verify_one(request_id, original, canonical):
    expected = marshal.loads(original)
    try:
        loaded = marshal.loads(canonical)
    except Exception as exc:
        raise Mismatch("marshal.loads rejects the canonical bytes: %s: %s" % (type(exc).__name__, exc))
    same(expected, loaded)
    return [request_id]


def main():
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    # Nothing but replies may reach the protocol channel: stray output goes to stderr.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    write_frame(replies, b"H", hello_fields())
    while True:
        try:
            kind, fields = read_frame(requests)
        except EOFError:
            return
        expected = {b"C": 4, b"D": 2, b"V": 3}.get(kind)
        if expected != len(fields):
            sys.stderr.write("pycemit compiler: unexpected request %r\n" % kind)
            return
        request_id = int(fields[0])
        try:
            if kind == b"C":
                path = fields[2].decode("utf-8", "surrogateescape")
                reply = b"K", compile_one(request_id, int(fields[1]), path, fields[3])
            elif kind == b"D":
                reply = b"K", [request_id, marshal.dumps(eval(fields[1].decode("utf-8")))]
            else:
                reply = b"K", verify_one(request_id, fields[1], fields[2])
        except Mismatch as exc:
            reply = b"E", [request_id, "VerifyMismatch", str(exc)[:2000], "", ""]
        except Exception as exc:  # SyntaxError, ValueError (NUL bytes), RecursionError, MemoryError...
            reply = b"E", error_fields(request_id, exc)
        write_frame(replies, *reply)


main()
