"""Helpers for pycemit's integration tests (run by the host's python3).

Everything here runs real programs: the pycemit binary named by $PYCEMIT_BIN,
and real interpreters (interpreters.py). Target-side checks run inside each
target interpreter (verify_pycs.py, expected_paths.py).
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import interpreters  # noqa: E402

PYCEMIT = os.environ.get("PYCEMIT_BIN", os.path.join(HERE, "..", "..", "build", "pycemit"))

# Modules imported from a compiled standard library copy to prove its pycs are
# used. None is imported by a bare `python -S` at start-up.
SAMPLE_MODULES = ["json", "argparse", "email.mime.text", "xml.dom.minidom", "http.client", "csv",
                  "dataclasses", "fractions", "difflib", "textwrap", "pprint", "calendar"]

# Directories of a standard library that hold tests and test data (some of it
# deliberately not compilable); the default copy leaves them out.
TEST_DIRS = {"test", "tests", "idle_test", "site-packages", "__pycache__"}


def target_pythons():
    """Every CPython >= 3.8 to test, or the one named by $PYCEMIT_TEST_PYTHON."""
    one = os.environ.get("PYCEMIT_TEST_PYTHON")
    return [one] if one else interpreters.require_cpythons()


def python_version(python):
    out = subprocess.run([python, "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                         capture_output=True, text=True, check=True)
    return tuple(int(x) for x in out.stdout.split("."))


def run(args, cwd=None, env=None, check=False, timeout=600, input=None):
    """Runs pycemit with `args`; returns CompletedProcess (text output)."""
    full_env = dict(os.environ)
    full_env.setdefault("PYCEMIT_CACHE_DIR", os.path.join(tempfile.gettempdir(), "pycemit-test-cache"))
    if env:
        full_env.update(env)
    result = subprocess.run([PYCEMIT] + list(args), cwd=cwd, env=full_env, capture_output=True,
                            timeout=timeout, input=input,
                            text=True, errors="surrogateescape")
    if check and result.returncode != 0:
        raise AssertionError("pycemit %s failed (%d):\n%s%s" % (" ".join(args), result.returncode,
                                                                  result.stdout, result.stderr))
    return result


def info(python):
    return json.loads(run(["info", "--python", python], check=True).stdout)


def stdlib_dir(python):
    out = subprocess.run([python, "-S", "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def copy_stdlib(python, dest, include_tests=False):
    """Copies `python`'s standard library (Lib) to `dest`, without site-packages,
    __pycache__ and (unless asked) test directories. Returns `dest`."""
    skip = {"site-packages", "__pycache__"} if include_tests else TEST_DIRS

    def ignore(directory, names):
        return [n for n in names if n in skip or n.endswith(".pyc")]

    shutil.copytree(stdlib_dir(python), dest, ignore=ignore, symlinks=True)
    return dest


def sources_in(tree):
    """Every *.py below `tree`, sorted, as pycemit discovers them."""
    found = []
    for directory, dirs, files in os.walk(tree):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        found += [os.path.join(directory, f) for f in sorted(files) if f.endswith(".py")]
    return sorted(found)


def outputs_in(tree, suffix=".pyc"):
    found = []
    for directory, _, files in os.walk(tree):
        found += [os.path.join(directory, f) for f in files if f.endswith(suffix)]
    return sorted(found)


def tree_digest(tree, suffix=".pyc"):
    """{relative path: SHA-256} of every file ending in `suffix` below `tree`."""
    digests = {}
    for path in outputs_in(tree, suffix):
        with open(path, "rb") as f:
            digests[os.path.relpath(path, tree)] = hashlib.sha256(f.read()).hexdigest()
    return digests


def expected_paths(python, sources, levels, prefix=None):
    """Asks `python`'s own importlib.util.cache_from_source where the pyc of each
    source is, for each level: {source: {level: path}}. `sources` are run-time paths."""
    script = os.path.join(HERE, "expected_paths.py")
    request = json.dumps({"sources": sources, "levels": levels, "prefix": prefix})
    out = subprocess.run([python, "-S", "-B", script], input=request, capture_output=True, text=True,
                         check=True, errors="surrogateescape")
    result = json.loads(out.stdout)
    return {s: {int(k): v for k, v in levels_map.items()} for s, levels_map in result.items()}


def verify(python, expectations):
    """Runs verify_pycs.py inside `python` on `expectations`; raises AssertionError listing problems."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(expectations, f)
        name = f.name
    try:
        out = subprocess.run([python, "-S", "-B", os.path.join(HERE, "verify_pycs.py"), name],
                             capture_output=True, text=True, timeout=1800)
    finally:
        os.unlink(name)
    if out.returncode != 0:
        lines = (out.stdout + out.stderr).splitlines()
        raise AssertionError("%s found %d problems, first:\n%s" % (python, len(lines), "\n".join(lines[:20])))
    return out.stdout


def imported_from(python, path_entry, modules, flags=(), env=None):
    """Imports `modules` in `python` with `path_entry` first on sys.path, -B (so
    nothing is written), -v, and --check-hash-based-pycs always.
    Returns {module file (as importlib reports it): file its code came from}."""
    code = "import sys; sys.path.insert(0, %r)\n" % path_entry
    code += "".join("import %s\n" % m for m in modules)
    code += "import json\nprint(json.dumps({m: sys.modules[m].__file__ for m in %r}))\n" % (modules,)
    cmd = [python, "-S", "-B", "-v", "--check-hash-based-pycs", "always"] + list(flags) + ["-c", code]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    full_env.update(env or {})
    out = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=300)
    if out.returncode != 0:
        raise AssertionError("import failed:\n" + out.stderr[-3000:])
    files = json.loads(out.stdout.strip().splitlines()[-1])
    loaded = set()
    for line in out.stderr.splitlines():
        if line.startswith("# code object from "):
            loaded.add(line[len("# code object from "):].strip("'"))
    stale = [line for line in out.stderr.splitlines() if "bytecode is stale" in line or "bad magic" in line]
    return files, loaded, stale
