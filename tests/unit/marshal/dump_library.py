"""Compiles this interpreter's standard library and dumps the code objects.

Usage: python -S dump_library.py OUT_DIR COUNT
For COUNT source files ("all", or a number: files spread evenly over the
sorted list) of the standard library, compiles each at optimization levels 0, 1
and 2, as pycemit's workers do (compile(source, path, "exec",
dont_inherit=True, optimize=N)), and writes marshal.dumps(code) to
OUT_DIR/NNNNN-oN.bin. Prints one line per stream, "NAME<TAB>PATH", and one per
file this interpreter cannot compile, "SKIP<TAB>PATH" (the library has some on
purpose: test data, other Python versions' files).

The standard library: every .py file under the directory of the os module
(CPython's Lib/; Debian's PyPy, which merges PyPy's lib-python/3 and lib_pypy
there) and, on PyPy, under sys.prefix's lib-python/3 and lib_pypy where they
exist (an upstream PyPy tree), without site-packages and dist-packages.
Runs on CPython 3.8+ and PyPy 3.9+.
"""
import marshal
import os
import sys
import warnings

warnings.simplefilter("ignore")  # SyntaxWarnings of test data files

LEVELS = (0, 1, 2)
SKIPPED_DIRECTORIES = {"site-packages", "dist-packages", "__pycache__"}


def roots():
    found = [os.path.dirname(os.__file__)]
    if sys.implementation.name == "pypy":
        found += [os.path.join(sys.prefix, "lib-python", "3"), os.path.join(sys.prefix, "lib_pypy")]
    result = []
    for root in found:
        real = os.path.realpath(root)
        if os.path.isdir(real) and real not in result:
            result.append(real)
    return result


def library_files():
    files = set()
    for root in roots():
        for directory, subdirectories, names in os.walk(root):
            subdirectories[:] = [d for d in subdirectories if d not in SKIPPED_DIRECTORIES]
            for name in names:
                if name.endswith(".py"):
                    files.add(os.path.join(directory, name))
    return sorted(files)


def sample(files, count):
    if count == "all" or int(count) >= len(files):
        return files
    n = int(count)
    return [files[i * len(files) // n] for i in range(n)]


def main():
    out_dir, count = sys.argv[1], sys.argv[2]
    for index, path in enumerate(sample(library_files(), count)):
        with open(path, "rb") as f:
            source = f.read()
        dumped = []
        try:
            for level in LEVELS:
                code = compile(source, path, "exec", dont_inherit=True, optimize=level)
                dumped.append((level, marshal.dumps(code)))
        except (SyntaxError, ValueError, UnicodeDecodeError, OverflowError, RecursionError, MemoryError):
            print("SKIP\t%s" % path)
            continue
        for level, data in dumped:
            name = "%05d-o%d" % (index, level)
            with open(os.path.join(out_dir, name + ".bin"), "wb") as f:
                f.write(data)
            print("%s\t%s" % (name, path))
    sys.stdout.flush()


main()
