#!/usr/bin/env python3
"""Writes OUTPUT, a C++ file defining pycemit::bootstrap_source() with the text of INPUT.

The Meson build's counterpart of tool/bootstrap/embed.cmake, writing the same
file but for its first (comment) line: `#include "pycemit/bootstrap.h"`, then the
program as a raw string literal with the delimiter PYCEMIT_BOOT.
Usage: embed_bootstrap.py INPUT OUTPUT
"""
import os
import sys

DELIMITER = "PYCEMIT_BOOT"


def main(argv):
    if len(argv) != 3:
        print("usage: embed_bootstrap.py INPUT OUTPUT", file=sys.stderr)
        return 2
    source, output = argv[1], argv[2]
    with open(source, "r", encoding="utf-8", newline="") as f:
        text = f.read()
    if ")%s\"" % DELIMITER in text:
        print("%s contains the raw-string delimiter" % source, file=sys.stderr)
        return 1
    generated = (
        "// Generated from tool/bootstrap/compiler.py by meson/embed_bootstrap.py; do not edit.\n"
        "#include \"pycemit/bootstrap.h\"\n"
        "namespace pycemit {\n"
        "std::string_view bootstrap_source() {\n"
        "  return R\"%s(%s)%s\";\n"
        "}\n"
        "}  // namespace pycemit\n" % (DELIMITER, text, DELIMITER))
    # Always (re)written: Meson's custom_target has no restat, so an output left
    # older than its input would make Ninja rerun this step on every build.
    temporary = output + ".tmp"
    with open(temporary, "w", encoding="utf-8", newline="") as f:
        f.write(generated)
    os.replace(temporary, output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
