"""pycemit's Bazel rules: reproducible CPython bytecode (.pyc) that hits the remote cache.

    load("@pycemit//bazel-rules:defs.bzl", "py_bytecode", "PyBytecodeInfo")

Setup: docs/bazel.md (bzlmod: `bazel_dep(name = "pycemit")`; WORKSPACE: a
`local_repository`/`http_archive` named `pycemit`, then `pycemit_dependencies()` from
`@pycemit//bazel-rules:repositories.bzl`).

## py_bytecode

    py_bytecode(
        name = "app_pycs",
        deps = [":app_lib"],            # py_library targets: their .py sources, transitively
        srcs = ["extra.py"],            # and/or sources named directly
        optimize = [0, 1],              # one pyc per level: mod.cpython-312.pyc, mod.cpython-312.opt-1.pyc
    )
    py_binary(name = "app", srcs = ["app.py"], deps = [":app_lib"], data = [":app_pycs"])

Compiles every `.py` source of `srcs` and of the transitive `deps` with pycemit, one action
per source file (mnemonic `PyBytecode`), and returns the pycs:

  * `DefaultInfo.files`: every pyc, under `<package>/_pycemit/<name>/<source path>`, a
    directory of this target only: two py_bytecode targets over one source never declare
    the same file (no "conflicting actions", rules_python #2445).
  * `DefaultInfo` runfiles: each pyc placed where the interpreter looks for it at run time,
    next to its source in the runfiles tree (`<repo>/pkg/__pycache__/mod.cpython-312.pyc`,
    or `<repo>/pkg/mod.pyc` for `layout = "sourceless"`). Put the target in a `py_binary`'s
    `data` and its pycs travel with the binary (runfiles, container layers) and are used.
  * `PyBytecodeInfo` (below).

Attributes (written once, in the attribute docs of private/py_bytecode.bzl, and copied here
by tests/lib/starlark_reference.py --write):

  srcs: list of labels, default []. `.py`/`.pyw` files to compile.
  deps: list of labels, default []. Targets whose Python sources are compiled, transitively:
    their `PyInfo.transitive_sources` (rules_python's or Bazel's built-in PyInfo), or for
    targets without PyInfo the `.py` files among their files and runfiles.
  interpreter: label, optional. The interpreter to compile with. Default: the Python toolchain's
    (`@bazel_tools//tools/python:toolchain_type`, which rules_python's `//python:toolchain_type`
    aliases), its `py3_runtime`. May be a `py_runtime`, or an executable or single-file label. A
    runtime with an in-build `interpreter` (a label) makes the interpreter and its `files`
    action inputs: hermetic, fine for sandboxing and remote execution. A runtime with
    `interpreter_path` (a system path) cannot be an input: the path must exist wherever the
    action runs, and its content is not part of the cache key.
  python_version: string, default "". The target Python version, e.g. "3.12": it names the pycs
    (`cpython-312`) at analysis time, where no interpreter can be asked. Not needed when the
    runtime says it (rules_python's `pyc_tag` or `interpreter_version_info`); if both are given
    they must agree. If the interpreter that runs turns out to have another cache tag, the
    action fails (its declared outputs are not written). Unused by the sourceless layout.
  invalidation_mode: string, one of "checked_hash" (default), "unchecked_hash", "timestamp". PEP
    552 mode. The hash modes are reproducible; "timestamp" records each source's mtime, which
    differs between checkouts, so only use it when mtimes are pinned.
  optimize: list of integers, default [0]. Optimization levels, each 0, 1 or 2; one pyc per
    level. 1 and 2 give `.opt-1`/`.opt-2` names, which `python -O`/`-OO` load.
  layout: string, one of "pycache" (default), "sourceless". "pycache":
    `__pycache__/<stem>.<tag>[.opt-N].pyc` beside the source, used by the interpreter when the
    source is there too (checked_hash: it checks the source hash). "sourceless": `<stem>.pyc` in
    the source's place, imported only when the `.py` is absent (images that ship pycs without
    sources); one optimize level only.
  embed_prefix: string, default "". The path embedded in each pyc (`co_filename`, what
    tracebacks of a sourceless pyc show) is `<embed_prefix>/<path>`; default `<path>` alone.
    `<path>` is the workspace-relative path (`pkg/mod.py`; `external/<repo>/pkg/mod.py` for
    other repositories), never an execroot or `bazel-out/<config>` path, so the bytes are the
    same in every checkout and configuration.
  on_error: string, one of "fail" (default), "warn", "skip". What a source that does not compile
    (a Python 2 file vendored in a wheel, rules_python #2701) does: "fail" the build, or
    "warn"/"skip": the build goes on and each output of that source is an empty file. Bazel
    needs every declared output, and the interpreter treats an empty pyc like a missing one (bad
    magic number: it compiles the source instead).

Execution: `PyBytecode` actions support Bazel's JSON persistent worker protocol
(`pycemit --persistent_worker`; interpreters stay alive between actions) and run as plain
actions otherwise; both write identical bytes. Bazel 4.x needs
`--experimental_worker_allow_json_protocol` for the worker; without it use
`--strategy=PyBytecode=sandboxed` (or `local`). To insist on the worker, use
`--strategy=PyBytecode=worker`. The pycemit binary the actions run is
`@pycemit//bazel-rules:pycemit`, a `label_flag` defaulting to `@pycemit//tool:pycemit`.

## PyBytecodeInfo

  pycs: depset of File: every declared pyc (an empty file for a source skipped by on_error).
  runfiles_paths: dict, path below the runfiles root -> pyc File: where each pyc sits next to
    its source.
  sources: depset of File: the .py sources compiled.
  cache_tag: string, e.g. 'cpython-312'; '' for the sourceless layout (its names carry none).
  optimize: list of int: the optimization levels.
  layout: string: 'pycache' or 'sourceless'.
  invalidation_mode: string: 'checked_hash', 'unchecked_hash' or 'timestamp'.
"""

load("//bazel-rules/private:py_bytecode.bzl", _PyBytecodeInfo = "PyBytecodeInfo", _py_bytecode = "py_bytecode")

py_bytecode = _py_bytecode
PyBytecodeInfo = _PyBytecodeInfo
