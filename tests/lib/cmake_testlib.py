"""Helpers for the CMake integration tests (test_cmake*.py).

They drive the real cmake, ninja and make on copies of examples/cmake and on
small scratch projects, against the PycEmit package installed from the build
tree of the pycemit under test ($PYCEMIT_BIN). Which cmake: $PYCEMIT_CMAKE, else the
one on PATH; tests/CMakeLists.txt runs each test once per CMake version found
(build_tools.py: Debian 12's 3.25 and, where installed, 4.x).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import build_tools  # noqa: E402
import pycemit_testlib as lib  # noqa: E402

REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
EXAMPLE = os.path.join(REPO, "examples", "cmake")

# The example's sources, relative to its SOURCE_ROOT (src/), and its modules.
EXAMPLE_SOURCES = ["inventory/__init__.py", "inventory/__main__.py", "inventory/model.py",
                   "inventory/io/__init__.py", "inventory/io/csvfile.py",
                   "inventory/report/__init__.py", "inventory/report/summary.py"]
EXAMPLE_MODULES = ["inventory", "inventory.model", "inventory.io", "inventory.io.csvfile",
                   "inventory.report", "inventory.report.summary", "inventory.__main__"]


def tool(name):
    """The path of `name`: cmake is $PYCEMIT_CMAKE or the one on PATH, anything else is
    looked up on PATH; fails (never skips) when it is missing."""
    if name == "cmake":
        return build_tools.tool_under_test("cmake")[0]
    path = shutil.which(name)
    if not path:
        raise AssertionError("%s is not installed (the CMake tests need cmake, ninja and make)" % name)
    return path


def build_env(extra=None):
    """The environment for cmake and the builds: no PYTHON* variables (they
    would change what the interpreters do), DESTDIR only when asked."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "DESTDIR"}
    env.setdefault("PYCEMIT_CACHE_DIR", os.path.join(tempfile.gettempdir(), "pycemit-test-cache"))
    env.update(extra or {})
    return env


def run(cmd, cwd=None, env=None, check=True, timeout=1200):
    """Runs `cmd` (list); returns CompletedProcess with stdout+stderr merged in .output."""
    result = subprocess.run(cmd, cwd=cwd, env=build_env(env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace", timeout=timeout)
    result.output = result.stdout
    if check and result.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s" % (" ".join(cmd), result.returncode, result.output[-6000:]))
    return result


def configure(source, build, generator="Ninja", defs=None, check=True):
    cmd = [tool("cmake"), "-S", source, "-B", build, "-G", generator]
    cmd += ["-D%s=%s" % (k, v) for k, v in sorted((defs or {}).items())]
    return run(cmd, check=check)


def cmake_warnings(output):
    """The warnings in a cmake run's output ("CMake Warning", "CMake Deprecation Warning",
    policy warnings): what CMake 4 says about old policies, ranges and commands."""
    return [line for line in output.splitlines() if line.startswith("CMake ") and "Warning" in line]


def build(build_dir, config=None, target=None, check=True, verbose=False):
    cmd = [tool("cmake"), "--build", build_dir]
    if config:
        cmd += ["--config", config]
    if target:
        cmd += ["--target", target]
    if verbose:
        cmd += ["--verbose"]
    return run(cmd, check=check)


def install(build_dir, destdir=None, prefix=None, component=None, config=None):
    cmd = [tool("cmake"), "--install", build_dir]
    if prefix:
        cmd += ["--prefix", prefix]
    if component:
        cmd += ["--component", component]
    if config:
        cmd += ["--config", config]
    return run(cmd, env={"DESTDIR": destdir} if destdir else None)


def install_package(prefix):
    """Installs the PycEmit package (pycemit, PycEmitConfig*.cmake, PycEmit.cmake and PycEmit/*.cmake)
    from the build tree of $PYCEMIT_BIN into `prefix`, as `cmake --install` does
    for users. Returns the installed pycemit."""
    build_dir = os.path.dirname(os.path.abspath(lib.PYCEMIT))
    if not os.path.exists(os.path.join(build_dir, "cmake-package", "PycEmitConfig.cmake")):
        raise AssertionError("%s has no PycEmit package files: reconfigure it (cmake -S %s -B %s) so that "
                             "cmake-modules/PycEmitPackage.cmake is included" % (build_dir, REPO, build_dir))
    install(build_dir, prefix=prefix, component="PycEmit")
    installed = os.path.join(prefix, "bin", "pycemit")
    with open(installed, "rb") as a, open(lib.PYCEMIT, "rb") as b:
        if a.read() != b.read():
            raise AssertionError("%s is not the pycemit under test (%s)" % (installed, lib.PYCEMIT))
    return installed


def copy_example(dest):
    """A copy of examples/cmake (tests edit its sources). Returns `dest`."""
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", "build*"))
    return dest


def pycs_in(tree):
    return lib.outputs_in(tree, ".pyc")


def mtimes(paths):
    return {p: os.stat(p).st_mtime_ns for p in paths}


def python_dir(python):
    major, minor = lib.python_version(python)
    return "lib/python%d.%d/site-packages" % (major, minor)


def cache_tag(python):
    return lib.info(python)["cache_tag"]


PYC_INFO = textwrap.dedent("""
    import json, marshal, struct, sys, types
    def filenames(code, found):
        found.add(code.co_filename)
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                filenames(c, found)
        return found
    result = {}
    for path in json.load(sys.stdin):
        with open(path, "rb") as f:
            data = f.read()
        code = marshal.loads(data[16:])
        result[path] = {"flags": struct.unpack("<I", data[4:8])[0],
                        "filenames": sorted(filenames(code, set()))}
    json.dump(result, sys.stdout)
    """)


def pyc_info(python, pycs):
    """{pyc: {"flags": PEP 552 flags, "filenames": every co_filename in it}}, read
    by loading each pyc with marshal inside `python`."""
    out = subprocess.run([python, "-S", "-B", "-c", PYC_INFO], input=json.dumps(list(pycs)),
                         capture_output=True, text=True, check=True, errors="surrogateescape")
    return json.loads(out.stdout)


def scratch_project(directory, body, files=None):
    """Writes a CMake project using find_package(PycEmit) with `body` after it,
    and `files` ({relative path: text}). Returns `directory`."""
    files = dict(files or {})
    files["CMakeLists.txt"] = ("cmake_minimum_required(VERSION 3.20...4.3)\nproject(scratch LANGUAGES NONE)\n"
                               "find_package(PycEmit CONFIG REQUIRED)\n" + textwrap.dedent(body))
    for rel, text in files.items():
        path = os.path.join(directory, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return directory


def written_sources(output, sources=EXAMPLE_SOURCES, what="wrote"):
    """The relative sources (of `sources`) whose build-tree pycs a build's output
    says pycemit wrote (`what` "wrote"), or found up to date and left alone
    ("unchanged"): the lines of `pycemit compile -v`, which add_python_bytecode
    passes with -DPYCEMIT_VERBOSE=ON."""
    found = set()
    for pyc in re.findall(r"^%s (.+\.pyc)$" % what, output, re.M):
        directory, name = os.path.split(pyc)
        if os.path.basename(directory) == "__pycache__":
            directory = os.path.dirname(directory)
        source = directory + "/" + name.split(".")[0] + ".py"
        matches = [rel for rel in sources if source.endswith("/" + rel)]
        if not matches:
            raise AssertionError("%s is the pyc of none of %s" % (pyc, sources))
        found.add(max(matches, key=len))
    return sorted(found)
