# pycemit's compiler program: runs inside the target interpreter (CPython 3.8+),
# embedded in the pycemit binary and started as
#   python -S -s -B -c <stub> <this program>
# with PYTHONHASHSEED=0, no other PYTHON* variables, and "/" as working directory.
# The stub (tool/src/interpreter_process.cpp) refuses interpreters that are not
# CPython >= 3.8 before this program is parsed.
#
# Protocol (the C++ side is tool/src/interpreter_protocol.cpp): frames on fd 0 / fd 1.
#   frame   = u32 LE payload length, payload
#   payload = 1 byte kind, then fields; field = u32 LE length, bytes.
#   Integers travel as ASCII decimal fields.
# interpreter -> pycemit, once at start:
#   'H' hello: implementation, version, cache_tag, magic (4 bytes), marshal
#       version, sys.executable, probe bytes, importlib.util.source_hash(probe)
# pycemit -> interpreter:
#   'C' compile: request id, optimization level, embedded path (file-system
#       bytes), source bytes
# interpreter -> pycemit, one reply per request:
#   'K' compiled: request id, marshal.dumps(code), then per warning:
#       category, line, message
#   'E' failed: request id, exception type, message, line, column (offset as
#       CPython reports it; empty when unknown)
import importlib.util
import marshal
import os
import struct
import sys
import warnings

PROBE = b"pycemit source-hash probe: \x00\xff\r\n"


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


def hello_fields():
    return [
        sys.implementation.name,
        "%d.%d.%d" % sys.version_info[:3],
        sys.implementation.cache_tag,
        importlib.util.MAGIC_NUMBER,
        marshal.version,
        sys.executable or "",
        PROBE,
        importlib.util.source_hash(PROBE),
    ]


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
        if kind != b"C" or len(fields) != 4:
            sys.stderr.write("pycemit compiler: unexpected request %r\n" % kind)
            return
        request_id, optimize, path_bytes, source = fields
        path = path_bytes.decode("utf-8", "surrogateescape")
        try:
            reply = b"K", compile_one(int(request_id), int(optimize), path, source)
        except Exception as exc:  # SyntaxError, ValueError (NUL bytes), RecursionError, MemoryError...
            reply = b"E", error_fields(int(request_id), exc)
        write_frame(replies, *reply)


main()
