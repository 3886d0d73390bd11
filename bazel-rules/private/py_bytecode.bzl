"""Implementation of `py_bytecode` (public API and reference: //bazel-rules:defs.bzl)."""

load("@pycemit_python_compat//:defs.bzl", "PY_INFO_PROVIDERS", "PY_RUNTIME_INFO_PROVIDERS")

PY_TOOLCHAIN_TYPE = "@bazel_tools//tools/python:toolchain_type"

# The mnemonic of the compile actions: --strategy=PyBytecode=worker|sandboxed|local|remote.
MNEMONIC = "PyBytecode"

PyBytecodeInfo = provider(
    doc = "The pycs of a py_bytecode target and where they go at run time.",
    fields = {
        "pycs": "depset of File: every declared pyc (an empty file for a source skipped by on_error).",
        "runfiles_paths": "dict, path below the runfiles root -> pyc File: where each pyc sits next to its source.",
        "sources": "depset of File: the .py sources compiled.",
        "cache_tag": "string, e.g. 'cpython-312'; '' for the sourceless layout (its names carry none).",
        "optimize": "list of int: the optimization levels.",
        "layout": "string: 'pycache' or 'sourceless'.",
        "invalidation_mode": "string: 'checked_hash', 'unchecked_hash' or 'timestamp'.",
    },
)

_MODES = {
    "checked_hash": "checked-hash",
    "unchecked_hash": "unchecked-hash",
    "timestamp": "timestamp",
}

def _is_python_source(f):
    return f.extension in ("py", "pyw")

def _sources(ctx):
    """The .py files to compile: srcs, and the transitive sources of deps."""
    transitive = []
    for dep in ctx.attr.deps:
        found = None
        for provider in PY_INFO_PROVIDERS:
            if provider in dep:
                found = dep[provider].transitive_sources
                break
        if found == None:
            # No PyInfo we know of (another Bazel's py_library, a filegroup): the Python
            # files it brings at run time.
            info = dep[DefaultInfo]
            files = info.files.to_list() + info.default_runfiles.files.to_list()
            found = depset([f for f in files if _is_python_source(f)])
        transitive.append(found)
    direct = [f for f in ctx.files.srcs if _is_python_source(f)]
    return depset(direct, transitive = transitive)

def _runtime_interpreter(runtime, where):
    if runtime.interpreter != None:
        files = getattr(runtime, "files", None) or depset()
        return struct(
            path = runtime.interpreter.path,
            inputs = depset([runtime.interpreter], transitive = [files]),
            runtime = runtime,
        )
    if not runtime.interpreter_path:
        fail("py_bytecode: the Python runtime from %s has neither interpreter nor interpreter_path" % where)
    return struct(path = runtime.interpreter_path, inputs = depset(), runtime = runtime)

def _interpreter(ctx):
    """The interpreter the actions run: (path for --python, input files, PyRuntimeInfo or None)."""
    target = ctx.attr.interpreter
    if target != None:
        for provider in PY_RUNTIME_INFO_PROVIDERS:
            if provider in target:
                return _runtime_interpreter(target[provider], str(target.label))
        info = target[DefaultInfo]
        executable = info.files_to_run.executable if info.files_to_run else None
        if executable == None:
            files = info.files.to_list()
            if len(files) != 1:
                fail("py_bytecode: interpreter %s must be a py_runtime, an executable or a single file" % target.label)
            executable = files[0]
        return struct(
            path = executable.path,
            inputs = depset([executable], transitive = [info.files, info.default_runfiles.files]),
            runtime = None,
        )
    toolchain = ctx.toolchains[PY_TOOLCHAIN_TYPE]
    runtime = getattr(toolchain, "py3_runtime", None)
    if runtime == None:
        fail("py_bytecode: the Python toolchain has no Python 3 runtime (py3_runtime); " +
             "register one or set `interpreter`")
    return _runtime_interpreter(runtime, "the Python toolchain")

def _cache_tag(ctx, runtime):
    """The cache tag the pycache names carry, known at analysis time (see docs/bazel.md)."""
    from_attr = None
    if ctx.attr.python_version:
        parts = ctx.attr.python_version.split(".")
        if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit():
            fail("py_bytecode: python_version must look like \"3.12\", not %r" % ctx.attr.python_version)
        from_attr = "cpython-%s%s" % (parts[0], parts[1])

    from_runtime = None
    if runtime != None:
        # rules_python's PyRuntimeInfo: pyc_tag ("cpython-312"), or interpreter_version_info.
        from_runtime = getattr(runtime, "pyc_tag", None) or None
        info = getattr(runtime, "interpreter_version_info", None)
        if from_runtime == None and info != None and getattr(info, "minor", None) != None:
            implementation = getattr(runtime, "implementation_name", None) or "cpython"
            from_runtime = "%s-%s%s" % (implementation, info.major, info.minor)

    if from_attr and from_runtime and from_attr != from_runtime:
        fail(("py_bytecode: python_version = %r names pycs %s, but the Python runtime says %s; " +
              "remove python_version or make it match") % (ctx.attr.python_version, from_attr, from_runtime))
    tag = from_attr or from_runtime
    if tag == None:
        fail("py_bytecode: %s cannot tell the target Python version at analysis time, and the " % ctx.label +
             "pyc names need it (__pycache__/mod.cpython-312.pyc): set python_version = \"3.12\" " +
             "(Bazel's own py_runtime has no version; rules_python's has interpreter_version_info)")
    if not tag.startswith("cpython-"):
        fail("py_bytecode: pycemit compiles for CPython only, not %s" % tag)
    return tag

def _split_root(f):
    """(source root for --source-root, path relative to it) of a source or generated file.

    Relative to the execroot for source files ("pkg/mod.py", "external/repo/mod.py") and to
    bazel-out/<config>/bin for generated ones: the same in every checkout and configuration.
    """
    root = f.root.path
    if root and f.path.startswith(root + "/"):
        return root, f.path[len(root) + 1:]
    if f.path.startswith("../"):  # --experimental_sibling_repository_layout
        return "..", f.path[3:]
    return ".", f.path

def _output_names(relative, layout, tag, levels):
    """Output paths relative to the output root, as pycemit names them (pyc-format.md §4)."""
    directory, _, base = relative.rpartition("/")
    stem = base[:-len(".pyw")] if base.endswith(".pyw") else base[:-len(".py")]
    prefix = directory + "/" if directory else ""
    if layout == "sourceless":
        return [prefix + stem + ".pyc"]
    return [
        prefix + "__pycache__/%s.%s%s.pyc" % (stem, tag, ".opt-%d" % level if level else "")
        for level in levels
    ]

def _runfiles_dir(ctx, f):
    """The directory of `f` below the runfiles root (`<workspace>/pkg`, `<repo>/pkg`)."""
    path = f.short_path[3:] if f.short_path.startswith("../") else ctx.workspace_name + "/" + f.short_path
    return path.rpartition("/")[0]

def _py_bytecode_impl(ctx):
    layout = ctx.attr.layout
    levels = ctx.attr.optimize
    if not levels:
        fail("py_bytecode: optimize must name at least one level")
    for level in levels:
        if level not in (0, 1, 2):
            fail("py_bytecode: optimize levels are 0, 1 or 2, not %d" % level)
    if len({level: None for level in levels}) != len(levels):
        fail("py_bytecode: optimize repeats a level: %s" % levels)
    if layout == "sourceless" and len(levels) != 1:
        fail("py_bytecode: the sourceless layout has one pyc per source (its name carries no " +
             ".opt-N): give one optimize level, or use two py_bytecode targets")

    interpreter = _interpreter(ctx)
    tag = _cache_tag(ctx, interpreter.runtime) if layout == "pycache" else ""
    pycemit = ctx.attr._pycemit[DefaultInfo].files_to_run
    mode = _MODES[ctx.attr.invalidation_mode]
    on_error = ctx.attr.on_error
    worker_requirements = {"supports-workers": "1", "requires-worker-protocol": "json"}

    sources = _sources(ctx)
    pycs = []
    runfiles_paths = {}
    for src in sources.to_list():
        source_root, relative = _split_root(src)
        names = _output_names(relative, layout, tag, levels)
        outputs = [ctx.actions.declare_file("_pycemit/%s/%s" % (ctx.label.name, n)) for n in names]
        output_root = outputs[0].path[:-(len(names[0]) + 1)]
        runfiles_dir = _runfiles_dir(ctx, src)
        prefix = relative.rpartition("/")[0]
        for name, out in zip(names, outputs):
            runfiles_paths[runfiles_dir + "/" + (name[len(prefix) + 1:] if prefix else name)] = out

        args = ctx.actions.args()
        args.set_param_file_format("multiline")
        args.use_param_file("@%s", use_always = True)
        args.add("compile")
        args.add("--python", interpreter.path)
        args.add("--invalidation-mode", mode)
        for level in levels:
            args.add("-O", str(level))
        args.add("--layout", layout)
        args.add("--source-root", source_root)
        args.add("--output-root", output_root)
        if ctx.attr.embed_prefix:
            args.add("--embed-prefix", ctx.attr.embed_prefix)
        args.add("--on-error", on_error)
        if tag:
            args.add("--expect-cache-tag", tag)  # a wrong interpreter fails clearly, not as a missing output
        if on_error != "fail":
            args.add("--placeholder-for-skipped")  # every declared output exists
        args.add("--jobs", "1")
        if on_error != "warn":
            args.add("--quiet")
        args.add(src)

        inputs = depset([src], transitive = [interpreter.inputs])
        progress = "Compiling %s to bytecode (%s)" % (src.short_path, tag or "sourceless")
        ctx.actions.run(
            executable = pycemit,
            arguments = [args],
            inputs = inputs,
            outputs = outputs,
            mnemonic = MNEMONIC,
            progress_message = progress,
            execution_requirements = worker_requirements,
        )
        pycs.extend(outputs)

    pycs_depset = depset(pycs)
    return [
        DefaultInfo(
            files = pycs_depset,
            runfiles = ctx.runfiles(root_symlinks = runfiles_paths),
        ),
        PyBytecodeInfo(
            pycs = pycs_depset,
            runfiles_paths = runfiles_paths,
            sources = sources,
            cache_tag = tag,
            optimize = levels,
            layout = layout,
            invalidation_mode = ctx.attr.invalidation_mode,
        ),
    ]

py_bytecode = rule(
    implementation = _py_bytecode_impl,
    attrs = {
        "srcs": attr.label_list(
            allow_files = [".py", ".pyw"],
            doc = """`.py`/`.pyw` files to compile.""",
        ),
        "deps": attr.label_list(
            doc = """Targets whose Python sources are compiled, transitively: their
            `PyInfo.transitive_sources` (rules_python's or Bazel's built-in PyInfo), or for targets
            without PyInfo the `.py` files among their files and runfiles.""",
        ),
        "interpreter": attr.label(
            cfg = "exec",
            allow_files = True,
            doc = """The interpreter to compile with. Default: the Python toolchain's
            (`@bazel_tools//tools/python:toolchain_type`, which rules_python's `//python:toolchain_type`
            aliases), its `py3_runtime`. May be a `py_runtime`, or an executable or single-file label. A
            runtime with an in-build `interpreter` (a label) makes the interpreter and its `files` action
            inputs: hermetic, fine for sandboxing and remote execution. A runtime with `interpreter_path`
            (a system path) cannot be an input: the path must exist wherever the action runs, and its
            content is not part of the cache key.""",
        ),
        "python_version": attr.string(
            doc = """The target Python version, e.g. "3.12": it names the pycs (`cpython-312`) at analysis time, where no
            interpreter can be asked. Not needed when the runtime says it (rules_python's `pyc_tag` or
            `interpreter_version_info`); if both are given they must agree. If the interpreter that runs
            turns out to have another cache tag, the action fails (its declared outputs are not written).
            Unused by the sourceless layout.""",
        ),
        "invalidation_mode": attr.string(
            default = "checked_hash",
            values = ["checked_hash", "unchecked_hash", "timestamp"],
            doc = """PEP 552 mode. The hash modes are reproducible; "timestamp" records each
            source's mtime, which differs between checkouts, so only use it when mtimes are pinned.""",
        ),
        "optimize": attr.int_list(
            default = [0],
            doc = """Optimization levels, each 0, 1 or 2; one pyc per level. 1 and 2 give
            `.opt-1`/`.opt-2` names, which `python -O`/`-OO` load.""",
        ),
        "layout": attr.string(
            default = "pycache",
            values = ["pycache", "sourceless"],
            doc = """"pycache": `__pycache__/<stem>.<tag>[.opt-N].pyc` beside the source, used by the
            interpreter when the source is there too (checked_hash: it checks the source hash).
            "sourceless": `<stem>.pyc` in the source's place, imported only when the `.py` is absent
            (images that ship pycs without sources); one optimize level only.""",
        ),
        "embed_prefix": attr.string(
            doc = """The path embedded in each pyc (`co_filename`, what tracebacks of a
            sourceless pyc show) is `<embed_prefix>/<path>`; default `<path>` alone. `<path>` is the
            workspace-relative path (`pkg/mod.py`; `external/<repo>/pkg/mod.py` for other repositories),
            never an execroot or `bazel-out/<config>` path, so the bytes are the same in every checkout
            and configuration.""",
        ),
        "on_error": attr.string(
            default = "fail",
            values = ["fail", "warn", "skip"],
            doc = """What a source that does not compile (a Python 2 file vendored in a wheel,
            rules_python #2701) does: "fail" the build, or "warn"/"skip": the build goes on and each
            output of that source is an empty file. Bazel needs every declared output, and the
            interpreter treats an empty pyc like a missing one (bad magic number: it compiles the source
            instead).""",
        ),
        "_pycemit": attr.label(
            default = Label("//bazel-rules:pycemit"),
            cfg = "exec",
            executable = True,
        ),
    },
    toolchains = [PY_TOOLCHAIN_TYPE],
    doc = "Compiles Python sources into reproducible pycs with pycemit, one action per source.",
)
