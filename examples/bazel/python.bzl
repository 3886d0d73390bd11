"""The interpreter of the WORKSPACE-mode toolchain, and its version.

py_bytecode names pycs when Bazel analyses the build, before any interpreter runs, so it
must know the version (mod.cpython-311.pyc); Bazel's own py_runtime cannot say it,
rules_python's toolchains can (under bzlmod this must match MODULE.bazel's toolchain).
If the interpreter turns out to be another version, the PyBytecode actions fail.
"""

PYTHON_INTERPRETER = "/usr/bin/python3"

PYTHON_VERSION = "3.11"
