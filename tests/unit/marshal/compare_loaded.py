"""Loads marshal streams and their canonical forms and compares what they load to.

Usage: python -S compare_loaded.py DIR
For every DIR/NAME.bin that has a DIR/NAME.canon beside it, loads both with
marshal.loads in this interpreter and compares the two objects recursively:
  - the same exact type everywhere (int 1, True and 1.0 differ; str and bytes);
  - floats and complex numbers by their bits (0.0 and -0.0 differ, NaNs match);
  - tuples and lists item by item; dicts and frozendicts (CPython 3.15, PEP 814)
    item by item in iteration order, keys compared like values;
  - sets and frozensets as equal sets whose every element has an identical
    counterpart in the other;
  - slices by start, stop, step;
  - code objects by every co_* attribute (methods such as co_lines() and
    co_positions() by what they return), recursively;
  - mutable objects (lists, dicts, sets) by identity too: one object on one
    side is one object on the other, two are two.
Prints "OK NAME" or "MISMATCH NAME WHERE: WHAT" for each pair, in name order.
Runs on CPython 3.8+ and PyPy 3.9+ (no newer syntax).
"""
import builtins
import marshal
import os
import struct
import sys
import warnings

warnings.simplefilter("ignore", DeprecationWarning)  # co_lnotab on 3.12+

CodeType = type(compile("", "", "exec"))
FrozenDict = getattr(builtins, "frozendict", None)


def float_bits(x):
    return struct.pack("<d", x)


def code_attributes(code):
    """(name, value) for every co_* attribute; callables by what they return."""
    result = []
    for name in sorted(dir(code)):
        if not name.startswith("co_"):
            continue
        value = getattr(code, name)
        if callable(value):
            try:
                value = tuple(value())  # immutable: identities concern loaded objects only
            except Exception as e:  # the same failure on both sides compares equal
                value = "raises %s" % type(e).__name__
        result.append((name, value))
    return result


def is_mapping(value):
    return isinstance(value, dict) or (FrozenDict is not None and isinstance(value, FrozenDict))


class Identities:
    """The pairing of mutable objects seen so far: id on one side -> id on the other."""

    def __init__(self):
        self.a_to_b = {}
        self.b_to_a = {}

    def pair(self, a, b):
        """False when `a` or `b` was already paired with another object."""
        if self.a_to_b.setdefault(id(a), id(b)) != id(b):
            return False
        return self.b_to_a.setdefault(id(b), id(a)) == id(a)


def diff(a, b, where, identities):
    """None when `a` and `b` are identical as described above, else a message."""
    if type(a) is not type(b):
        return "%s: type %s != %s" % (where, type(a).__name__, type(b).__name__)
    if isinstance(a, (list, dict, set)) and not identities.pair(a, b):
        return "%s: shared differently (one object on one side, two on the other)" % where
    if isinstance(a, CodeType):
        attributes_a = code_attributes(a)
        attributes_b = code_attributes(b)
        if [n for n, _ in attributes_a] != [n for n, _ in attributes_b]:
            return "%s: different co_* attributes" % where
        for (name, x), (_, y) in zip(attributes_a, attributes_b):
            d = diff(x, y, where + "." + name, identities)
            if d:
                return d
        return None
    if isinstance(a, float):
        if float_bits(a) != float_bits(b):
            return "%s: float %r != %r" % (where, a, b)
        return None
    if isinstance(a, complex):
        if float_bits(a.real) + float_bits(a.imag) != float_bits(b.real) + float_bits(b.imag):
            return "%s: complex %r != %r" % (where, a, b)
        return None
    if isinstance(a, (tuple, list)):
        if len(a) != len(b):
            return "%s: length %d != %d" % (where, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = diff(x, y, "%s[%d]" % (where, i), identities)
            if d:
                return d
        return None
    if isinstance(a, (set, frozenset)):
        if len(a) != len(b) or a != b:
            return "%s: set %r != %r" % (where, a, b)
        rest = list(b)
        for x in a:
            match = [y for y in rest if diff(x, y, where, Identities()) is None]
            if not match:
                return "%s: element %r has no identical counterpart in %r" % (where, x, b)
            rest.remove(match[0])
        return None
    if is_mapping(a):
        items_a = list(a.items())
        items_b = list(b.items())
        if len(items_a) != len(items_b):
            return "%s: %d items != %d" % (where, len(items_a), len(items_b))
        for i, ((ka, va), (kb, vb)) in enumerate(zip(items_a, items_b)):
            d = (diff(ka, kb, "%s.key[%d]" % (where, i), identities)
                 or diff(va, vb, "%s[%r]" % (where, ka), identities))
            if d:
                return d
        return None
    if isinstance(a, slice):
        return diff((a.start, a.stop, a.step), (b.start, b.stop, b.step), where, identities)
    if a != b:
        return "%s: %r != %r" % (where, a, b)
    return None


def main():
    folder = sys.argv[1]
    for entry in sorted(os.listdir(folder)):
        if not entry.endswith(".bin"):
            continue
        name = entry[:-4]
        canon_path = os.path.join(folder, name + ".canon")
        if not os.path.exists(canon_path):
            continue
        try:
            with open(os.path.join(folder, entry), "rb") as f:
                original = marshal.loads(f.read())
            with open(canon_path, "rb") as f:
                canonical = marshal.loads(f.read())
        except Exception as e:
            print("MISMATCH %s load: %s: %s" % (name, type(e).__name__, e))
            continue
        d = diff(original, canonical, name, Identities())
        print("OK %s" % name if d is None else "MISMATCH %s %s" % (name, d))
        sys.stdout.flush()


main()
