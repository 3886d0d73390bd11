"""Writes fuzzing seeds: what this interpreter's marshal.dumps() writes.

Usage: python -S make_seeds.py OUT_DIR MAX_LEN NUMBER
Writes OUT_DIR/NUMBER-<implementation>-3.<minor>-<name>.bin, each at most
MAX_LEN bytes:
  - code objects compiled from a few sources with the constants that make the
    output irreproducible (frozensets, one-character strings, big ints, floats,
    nested functions, exceptions), and from about 50 standard library modules;
  - on an interpreter with frozendict (CPython 3.15, PEP 814, marshal version
    6): frozendicts (empty, nested, repeated, holding mutable objects, inside
    other containers) and code objects holding them in co_consts (the compiler
    emits none; code.replace() puts them there).
Prints "<tag>: N seeds". Runs on CPython 3.8+ and PyPy 3.9+.
"""
import builtins
import glob
import marshal
import os
import sys

out_dir, max_len, number = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tag = "%s-%s-3.%d" % (number, sys.implementation.name, sys.version_info[1])

TRICKY = {
    "frozensets": "def f(x):\n    return x in {1, 'a', (2, 3), 2.5, -0.0, 0.0, b'x', None, 3j}\n",
    "one_char": "a = 'a'\nb = ('a', 'b', '\\xe9', '\\u20ac', '')\n",
    "numbers": "x = (10**30, -2**31, 2**31, -2**31 - 1, 1.5, -0.0, 1e400, 1+2j)\n",
    "nested": ("def f(a, *b, c=1, **d):\n    def g():\n        return a, lambda: c\n    return g\n"
               "class C:\n    x = [i for i in range(3)]\n"),
    "unicode": "s = ('h\\xe9llo', '\\U0001F600', '\\udcff', 'a' * 300, b'\\x00\\xff')\n",
    "exceptions": "try:\n    import x\nexcept ImportError:\n    pass\nfinally:\n    y = 1\n",
}


def library_sources():
    lib = os.path.dirname(os.__file__)
    paths = sorted(glob.glob(os.path.join(lib, "*.py")))
    step = max(1, len(paths) // 50)
    for path in paths[::step]:
        with open(path, "rb") as f:
            yield os.path.basename(path)[:-3], f.read()


def frozendict_values(fd):
    shared = fd(a=1, b=(1, 2))
    items = [fd(k=1)]
    deep = fd()
    for _ in range(20):
        deep = fd(k=deep)
    return {
        "fd_simple": fd({"a": 1}),
        "fd_empty": fd(),
        "fd_nested": fd(a=fd(b=fd(c=fd())), d=(1, fd(x=2))),
        "fd_repeated": (shared, shared, fd(a=1, b=(1, 2))),
        "fd_order": (fd(z=1, a=2), fd(a=2, z=1)),
        "fd_types": fd({1: 1.0, -0.0: True, b"k": "k", None: ..., (1,): frozenset({2}), 1j: slice(1, 2)}),
        "fd_containers": (frozenset({fd(a=1), 2}), {fd(a=1): [fd(b=2)]}, {fd(c=3)}),
        "fd_mutable": (fd(a=[1]), fd(a=[1]), fd(d={1: 2}), items, fd(x=items)),
        "fd_deep": deep,
    }


def frozendict_code(fd):
    module = compile("def f():\n    return 1\nx = (1, 2)\n", "/seed/frozendict.py", "exec", dont_inherit=True)
    shared = fd(a=1, b=(1, 2))
    consts = tuple(c.replace(co_consts=c.co_consts + (fd(k=shared), shared)) if hasattr(c, "co_code") else c
                   for c in module.co_consts)
    return module.replace(co_consts=consts + (shared, fd(a=1, b=(1, 2)), fd(), frozenset({fd(a=1), 1})))


objects = []
for name, source in sorted(TRICKY.items()):
    objects.append((name, "/seed/%s.py" % name, source.encode()))
objects += [(name, "/seed/%s.py" % name, source) for name, source in library_sources()]

written = 0


def write(name, data):
    global written
    if len(data) > max_len:
        return
    with open(os.path.join(out_dir, "%s-%s.bin" % (tag, name)), "wb") as f:
        f.write(data)
    written += 1


for name, filename, source in objects:
    if written >= 56:
        break
    try:
        write(name, marshal.dumps(compile(source, filename, "exec", dont_inherit=True)))
    except (SyntaxError, ValueError):
        continue

fd = getattr(builtins, "frozendict", None)
if fd is not None:
    for name, value in sorted(frozendict_values(fd).items()):
        write(name, marshal.dumps(value))
    write("fd_code", marshal.dumps(frozendict_code(fd)))

print("%s: %d seeds" % (tag, written))
