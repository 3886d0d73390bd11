"""The version of the toolchain's interpreter (toolchain/BUILD.bazel: /usr/bin/python3).

py_bytecode names pycs when Bazel analyses the build, before any interpreter runs, so it
must know the version (mod.cpython-311.pyc). A py_runtime with `python_version = "PY3"`
(Bazel's own, or rules_python 0.22's, which is Bazel's) cannot say it. If the interpreter
turns out to be another version, the PyBytecode actions fail and say so.
"""

PYTHON_VERSION = "3.11"
