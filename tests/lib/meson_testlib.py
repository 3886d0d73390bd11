"""Helpers for the Meson integration tests (test_meson*.py).

They drive the real meson and ninja on copies of examples/meson, with pycemit found on
PATH ($PYCEMIT_BIN) or built by Meson from this repository as a subproject. Which meson:
$PYCEMIT_MESON, else the one on PATH (Debian 12's 1.0.1, installed by .ci/setup);
tests/CMakeLists.txt runs each test once per Meson version found (build_tools.py).
"""
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import build_tools  # noqa: E402
import pycemit_testlib as lib  # noqa: E402

REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
EXAMPLE = os.path.join(REPO, "examples", "meson")

# The example package's sources (relative to the package directory) and modules.
EXAMPLE_SOURCES = ["__init__.py", "__main__.py", "core.py", "formats/__init__.py", "formats/text.py"]
EXAMPLE_MODULES = ["chime", "chime.core", "chime.formats", "chime.formats.text"]


def tool(name):
    """The path of `name`: meson is $PYCEMIT_MESON or the one on PATH, anything else is
    looked up on PATH; fails (never skips) when it is missing."""
    if name == "meson":
        return build_tools.tool_under_test("meson")[0]
    path = shutil.which(name)
    if not path:
        raise AssertionError("%s is not installed: the Meson tests need meson and ninja "
                             "(.ci/setup installs Debian's meson and ninja-build)" % name)
    return path


def meson_version():
    """The version of the meson under test, e.g. (1, 12, 1)."""
    return build_tools.tool_under_test("meson")[1]


def has_builtin_bytecompile():
    """Meson 1.2 and later byte-compile what py.install_sources() installs (option
    python.bytecompile, default 0), which pycemit's users turn off (docs/meson.md)."""
    return meson_version() >= (1, 2)


def bytecompile_off():
    """The options that turn Meson's own byte-compilation off, where it exists."""
    return {"python.bytecompile": "-1"} if has_builtin_bytecompile() else {}


def path_without_pycemit(path):
    """`path` (a PATH value) without the directories holding a `pycemit`."""
    keep = [d for d in path.split(os.pathsep) if d and not os.access(os.path.join(d, "pycemit"), os.X_OK)]
    return os.pathsep.join(keep)


def tool_dir(parent):
    """A directory (under `parent`) holding only `pycemit`, a link to $PYCEMIT_BIN:
    put first on PATH, it is what the example's find_program('pycemit') finds."""
    directory = os.path.join(parent, "installed pycemit", "bin")
    os.makedirs(directory, exist_ok=True)
    link = os.path.join(directory, "pycemit")
    if not os.path.lexists(link):
        os.symlink(os.path.abspath(lib.PYCEMIT), link)
    return directory


def env(path_first=None, subproject_only=False, extra=None):
    """The environment for meson and ninja: no PYTHON* variables and no DESTDIR
    (unless in `extra`); PATH with `path_first` first, or (`subproject_only`)
    without any pycemit, so the example has to build its own."""
    result = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "DESTDIR"}
    result.setdefault("PYCEMIT_CACHE_DIR", os.path.join(tempfile.gettempdir(), "pycemit-test-cache"))
    path = result.get("PATH", os.defpath)
    if subproject_only:
        path = path_without_pycemit(path)
    if path_first:
        path = path_first + os.pathsep + path
    result["PATH"] = path
    result.update(extra or {})
    return result


def run(cmd, environ, cwd=None, check=True, timeout=1800):
    """Runs `cmd`; returns CompletedProcess with stdout and stderr merged in .output."""
    result = subprocess.run(cmd, cwd=cwd, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace", timeout=timeout)
    result.output = result.stdout
    if check and result.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s" % (" ".join(cmd), result.returncode, result.output[-8000:]))
    return result


def copy_example(dest, subproject=False):
    """Copies examples/meson to `dest`; with `subproject`, adds
    subprojects/pycemit, a symbolic link to this repository."""
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "subprojects"))
    if subproject:
        os.makedirs(os.path.join(dest, "subprojects"))
        os.symlink(REPO, os.path.join(dest, "subprojects", "pycemit"))
    return dest


def setup(source, build, prefix, options, environ):
    cmd = [tool("meson"), "setup", build, source, "--prefix", prefix]
    cmd += ["-D%s=%s" % (k, v) for k, v in sorted(options.items())]
    return run(cmd, environ)


def configure(build, options, environ):
    return run([tool("meson"), "configure", build] + ["-D%s=%s" % (k, v) for k, v in sorted(options.items())],
               environ)


def meson_compile(build, environ, target=None):
    return run([tool("meson"), "compile", "-C", build] + ([target] if target else []), environ)


def ninja(build, environ, *args):
    return run([tool("ninja"), "-C", build] + list(args), environ)


def install(build, environ, destdir=None, only_changed=False, destdir_option=False):
    """`meson install`, with DESTDIR in the environment when given, or passed as
    `--destdir` with `destdir_option` (Meson rebuilds first, so its output
    includes Ninja's)."""
    extra = {"DESTDIR": destdir} if destdir and not destdir_option else {}
    cmd = [tool("meson"), "install", "-C", build] + (["--only-changed"] if only_changed else [])
    cmd += ["--destdir", destdir] if destdir and destdir_option else []
    return run(cmd, dict(environ, **extra))


def uninstall(build, environ):
    return run([tool("ninja"), "-C", build, "uninstall"], environ)


def installed(build, environ):
    """`meson introspect --installed`: {file in the source or build tree: final path}."""
    return json.loads(run([tool("meson"), "introspect", build, "--installed"], environ).stdout)


def staged(destdir, final_path):
    """Where `final_path` is under the staging root `destdir`."""
    return os.path.join(destdir, final_path.lstrip("/"))


def files_under(tree, suffix=""):
    """Every file (not directory) below `tree` ending in `suffix`, sorted."""
    found = []
    for directory, _, names in os.walk(tree):
        found += [os.path.join(directory, n) for n in names if n.endswith(suffix)]
    return sorted(found)


def dirs_named(tree, name):
    """Every directory below `tree` (or `tree` itself) whose base name is `name`, sorted."""
    return sorted(d for d, _, _ in os.walk(tree) if os.path.basename(d) == name)


def install_script_commands(install_output):
    """The command lines of the install scripts `meson install` ran (Meson
    1.0.1 logs each as: Running custom install script '<arguments joined by
    spaces>')."""
    prefix = "Running custom install script '"
    return [line[len(prefix):-1] for line in install_output.splitlines()
            if line.startswith(prefix) and line.endswith("'")]


def run_target_command(build, environ, target):
    """The argument list Ninja runs for run_target `target`, without the
    `env NAME=VALUE...` Meson puts first to set its environment."""
    line = run([tool("ninja"), "-C", build, "-t", "commands", target], environ).stdout.splitlines()[-1]
    words = shlex.split(line)
    if words[0] == "env":
        words = words[1:]
        while words and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words = words[1:]
    return words


def snapshot(paths):
    """{path: (inode, mtime in ns, SHA-256)}: what "rewrote nothing" compares."""
    result = {}
    for path in paths:
        st = os.stat(path)
        with open(path, "rb") as f:
            result[path] = (st.st_ino, st.st_mtime_ns, hashlib.sha256(f.read()).hexdigest())
    return result


def deploy(destdir, final_dir):
    """Copies the staged `final_dir` (under `destdir`) to `final_dir` itself, as a
    package manager would, keeping mtimes (shutil.copy2)."""
    shutil.copytree(staged(destdir, final_dir), final_dir, symlinks=True, dirs_exist_ok=True)


# Runs inside the target interpreter: reads JSON [pyc paths] on stdin, prints
# {pyc: sorted co_filename of its module code object and every nested one}.
_CODE_FILENAMES = r"""
import json, marshal, sys
def walk(code, names):
    names.add(code.co_filename)
    for const in code.co_consts:
        if hasattr(const, "co_filename"):
            walk(const, names)
result = {}
for path in json.load(sys.stdin):
    with open(path, "rb") as f:
        data = f.read()
    names = set()
    walk(marshal.loads(data[16:]), names)
    result[path] = sorted(names)
print(json.dumps(result))
"""


def code_filenames(python, pycs):
    """{pyc: [co_filename...]}, read with marshal inside `python`."""
    out = subprocess.run([python, "-S", "-B", "-c", _CODE_FILENAMES], input=json.dumps(pycs),
                         capture_output=True, text=True, check=True, errors="surrogateescape")
    return json.loads(out.stdout)


def run_python(python, args, path_entry, flags=()):
    """Runs `python [flags] args` with `path_entry` on PYTHONPATH and nothing
    else from the environment's PYTHON* variables; returns its stdout."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    environ["PYTHONPATH"] = path_entry
    out = subprocess.run([python] + list(flags) + list(args), capture_output=True, text=True,
                         env=environ, timeout=300)
    if out.returncode != 0:
        raise AssertionError("%s %s failed:\n%s" % (python, " ".join(args), out.stderr[-3000:]))
    return out.stdout


def pick_pythons():
    """(oldest, system, newest) CPython >= 3.8 interpreters. `system` is a Debian
    /usr/bin/python3.N when there is one (Meson installs for it into
    lib/python3/dist-packages), else one in the middle. Python 3.12 and later
    take the example's no-distutils branch with Meson < 1.2."""
    pythons = lib.target_pythons()
    if len(pythons) < 3:  # PYCEMIT_TEST_PYTHON names one: take the others from the machine
        pythons = pythons + [p for p in lib.interpreters.require_cpythons() if p not in pythons]
    ordered = sorted(pythons, key=lib.python_version)
    system = next((p for p in ordered if p.startswith("/usr/bin/")), ordered[len(ordered) // 2])
    return ordered[0], system, ordered[-1]


def expected_outputs(python, sources, layout, levels, pycache_prefix=None):
    """{final source path: {level: final pyc path}}, from `python`'s own importlib
    (cache_from_source) for the pycache and prefix layouts."""
    if layout == "sourceless":
        return {s: {levels[0]: s[:-len(".py")] + ".pyc"} for s in sources}
    return lib.expected_paths(python, sources, levels, pycache_prefix if layout == "prefix" else None)


class ExampleChecks:
    """Assertions on an installed Meson project (by default examples/meson),
    for unittest.TestCase subclasses with self.source (the copied project) and
    self.build. PACKAGE, SOURCES (relative to the package) and MODULES describe
    the package the project installs."""
    PACKAGE = "chime"
    SOURCES = EXAMPLE_SOURCES
    MODULES = EXAMPLE_MODULES

    def package_dir(self, environ):
        """The package's final (run-time) directory, from Meson."""
        found = installed(self.build, environ)
        for origin, final in found.items():
            if origin.endswith(os.path.join("", self.PACKAGE, "__init__.py")):
                return os.path.dirname(final)
        for origin, final in found.items():  # sourceless: the bytecode directory is the package
            if origin.endswith(os.path.join("", self.PACKAGE, self.PACKAGE)):
                return final
        raise AssertionError("no %s package in meson introspect --installed: %s" % (self.PACKAGE, found))

    def check_installed(self, python, environ, layout, levels, mode, destdir=None, pycache_prefix=None):
        """Checks every pyc of an install (under `destdir`, or in place):
        exactly the expected files, each verified inside `python` with the
        final path as co_filename, no staging, build or source path in any of
        them. Returns {final source: {level: final pyc}}."""
        place = (lambda p: staged(destdir, p)) if destdir else (lambda p: p)
        package = self.package_dir(environ)
        sources = [os.path.join(package, rel) for rel in self.SOURCES]
        expected = expected_outputs(python, sources, layout, levels, pycache_prefix)
        wanted = sorted(place(p) for by_level in expected.values() for p in by_level.values())
        tree = place(pycache_prefix if layout == "prefix" else package)
        self.assertEqual(files_under(tree, ".pyc"), wanted)
        if layout == "prefix":
            self.assertEqual(files_under(place(package), ".pyc"), [], "pycs beside the sources")

        jobs = []
        for rel, final in zip(self.SOURCES, sources):
            # Sourceless installs have no source: its header was computed from the tree's.
            source = os.path.join(self.source, self.PACKAGE, rel) if layout == "sourceless" else place(final)
            for level, pyc in expected[final].items():
                jobs.append({"source": source, "pyc": place(pyc), "optimize": level, "mode": mode,
                             "embedded": final, "same_body_as": None})
        lib.verify(python, jobs)

        names = code_filenames(python, wanted)
        for final, by_level in expected.items():
            for pyc in by_level.values():
                self.assertEqual(names[place(pyc)], [final], "co_filename of %s" % place(pyc))

        forbidden = [self.build, self.source] + ([destdir] if destdir else [])
        for pyc in wanted:
            with open(pyc, "rb") as f:
                data = f.read()
            for path in forbidden:
                self.assertNotIn(os.fsencode(path), data, "%s embeds %s" % (pyc, path))
        return expected

    def check_imports(self, python, package, expected, levels, layout, pycache_prefix=None):
        """Imports the package's modules from its final directory at each level
        (-v, --check-hash-based-pycs always, -B): every module's code must come
        from the pyc `expected` names for it."""
        site = os.path.dirname(package)
        for level in levels:
            flags = ["-O"] * level + (["-X", "pycache_prefix=" + pycache_prefix] if layout == "prefix" else [])
            files, loaded, stale = lib.imported_from(python, site, self.MODULES, flags)
            self.assertEqual(stale, [], "the interpreter rejected pycs")
            self.assertEqual(sorted(files), sorted(self.MODULES))
            for module, file in files.items():
                if layout == "sourceless":
                    self.assertTrue(file.endswith(".pyc"), file)
                    self.assertIn(file, loaded)
                else:
                    self.assertIn(expected[file][level], loaded, "%s not loaded from its pyc" % module)

    def check_example_runs(self, python, package, layout, pycache_prefix=None):
        """Runs the example (python -m chime) from its final directory, and
        checks the file name its code reports (co_filename) is the final one."""
        site = os.path.dirname(package)
        flags = ["-S", "-B"] + (["-X", "pycache_prefix=" + pycache_prefix] if layout == "prefix" else [])
        self.assertEqual(run_python(python, ["-m", "chime", "3"], site, flags), "ding-ding-ding!\n")
        where = run_python(python, ["-c", "import chime.core; print(chime.core.where())"], site, flags)
        self.assertEqual(where.strip(), os.path.join(package, "core.py"))
