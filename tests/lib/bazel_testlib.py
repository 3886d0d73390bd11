"""Helpers for the Bazel integration tests (tests/integration/test_bazel*.py).

They drive the real `bazel` against copies of this repository's Bazel files (a "checkout"
snapshot: WORKSPACE, MODULE.bazel, tool/, bazel-rules/, examples/bazel/), each build with
its own --output_base, in --batch mode so that no Bazel server or persistent worker
outlives a command. Which bazel: $PYCEMIT_BAZEL, else the one on PATH (build_tools.py).
Two kinds, both offline:

  * Bazel 4 to 6: WORKSPACE mode (Debian 12's bazel-bootstrap 4.2.3);
  * Bazel 7 and later: bzlmod (MODULE.bazel), as Debian sid's Bazel 7.7.1 runs through
    /opt/pycemit-test-tools/bin/bazel, whose bazelrc sets --noenable_workspace, an empty
    registry and --override_module for the modules Debian ships (rules_cc, rules_python...).
"""
import glob
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import build_tools  # noqa: E402
import pycemit_testlib as lib  # noqa: E402

# What a checkout needs for Bazel: the module/workspace files, the tool, the rules, the example.
CHECKOUT_PATHS = ["WORKSPACE", "WORKSPACE.bzlmod", "MODULE.bazel", "BUILD.bazel", ".bazelrc", ".bazelignore",
                  "tool", "bazel-rules",
                  os.path.join("examples", "bazel")]

# pycemit's C++ (built for the exec configuration) without optimization: about 60% of the
# compile time of the default (opt) when the tool cache is cold; the bytes it writes do not
# depend on it (test_bazel.py compares them with the -O2 CMake build's).
TOOL_FLAGS = ["--host_compilation_mode=fastbuild"]

# Flags for every build: no convenience symlinks in the source tree, quiet sandboxes,
# plain output.
BUILD_FLAGS = ["--symlink_prefix=/", "--nosandbox_debug", "--color=no", "--curses=no",
               "--noshow_progress"] + TOOL_FLAGS

MNEMONIC = "PyBytecode"


def find_bazel():
    """(path, version tuple) of the bazel to test with: $PYCEMIT_BAZEL, else `bazel` on PATH.
    Fails when there is none; prints the version (build_tools.tool_under_test)."""
    return build_tools.tool_under_test("bazel")


def uses_bzlmod(version):
    """Bazel 7 and later are tested with bzlmod (MODULE.bazel), earlier ones with WORKSPACE."""
    return version >= (7,)


def main_repository(version, workspace_name):
    """The main repository's directory name in the execroot and in runfiles: `_main` under
    bzlmod, the WORKSPACE's name otherwise."""
    return "_main" if uses_bzlmod(version) else workspace_name


def tool_cache_flags(cache):
    """Flags for building pycemit's C++ through the cross-run `cache` (a --disk_cache) only."""
    return ["--disk_cache=" + cache]


def version_flags(version):
    """Flags for every build with this Bazel version. Bazel 4's JSON worker flag (the
    example's --config=bazel4; see its .bazelrc). Bazel 7 with a disk cache leaves the
    outputs of cache hits in the cache ("build without the bytes"), and a later build without
    that cache (another --disk_cache, or none) must then run those actions again, pycemit's
    C++ compiles included: download every output."""
    if version < (5,):
        return ["--config=bazel4"]
    return ["--remote_download_outputs=all"] if version >= (7,) else []


def cache_hit(spawn):
    """Whether an execution-log spawn was served by a (disk or remote) cache: Bazel 4 writes
    `remoteCacheHit`, Bazel 7 `cacheHit` (both also for a --disk_cache hit)."""
    if "cacheHit" in spawn:
        return spawn["cacheHit"]
    return spawn.get("remoteCacheHit", False)


def _ignore_build_trees(directory, names):
    return [n for n in names if n.startswith("bazel-") and os.path.islink(os.path.join(directory, n))
            or n in ("__pycache__",) or n.endswith(".pyc")]


def snapshot_checkout(dest):
    """Copies this repository's Bazel-relevant files to `dest` (a fresh directory): a
    stand-in for a checkout at another path. Returns `dest`."""
    os.makedirs(dest)
    for rel in CHECKOUT_PATHS:
        src = os.path.join(REPO, rel)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dest, rel), ignore=_ignore_build_trees, symlinks=True)
        elif os.path.exists(src):
            shutil.copy2(src, os.path.join(dest, rel))
    return dest


# The interpreter of the example's toolchain (examples/bazel/toolchain/BUILD.bazel).
EXAMPLE_PYTHON = "/usr/bin/python3"


def python_version_of(python):
    """"3.N" of the interpreter `python`."""
    return "%d.%d" % lib.python_version(python)[:2]


def pick_python():
    """(interpreter, "3.N") with a prefix of its own, for an interpreter given as a label: a
    CPython 3.12 if installed (pyenv's), else the newest test interpreter."""
    pythons = lib.target_pythons()
    versions = {p: lib.python_version(p) for p in pythons}
    chosen = next((p for p in pythons if versions[p] == (3, 12)), None)
    chosen = chosen or max(pythons, key=lambda p: versions[p])
    return chosen, "%d.%d" % versions[chosen]


EXAMPLE_VERSION_LINE = re.compile(r'^PYTHON_VERSION = "([\d.]+)"$', re.M)


def configure_example(example, version):
    """Makes the example's python.bzl name `version` ("3.N"), the version of the toolchain's
    /usr/bin/python3. On Debian 12 it already does (3.11): the example is used as shipped."""
    path = os.path.join(example, "python.bzl")
    with open(path) as f:
        text = f.read()
    if not EXAMPLE_VERSION_LINE.search(text):
        raise AssertionError("%s has no PYTHON_VERSION line" % path)
    with open(path, "w") as f:
        f.write(EXAMPLE_VERSION_LINE.sub('PYTHON_VERSION = "%s"' % version, text))


def keep_temporary_files():
    """$PYCEMIT_BAZEL_KEEP=1 keeps the checkouts, output bases and logs (for debugging)."""
    return os.environ.get("PYCEMIT_BAZEL_KEEP") == "1"


def make_writable_and_remove(path):
    """rmtree for Bazel trees (read-only files and directories)."""
    def onerror(func, p, _):
        parent = os.path.dirname(p)
        for q in (parent, p):
            try:
                os.chmod(q, os.stat(q).st_mode | stat.S_IWUSR | stat.S_IXUSR | stat.S_IRUSR)
            except OSError:
                pass
        func(p)
    if os.path.lexists(path):
        shutil.rmtree(path, onerror=onerror)


def read_execution_log(path):
    """The spawns of an --execution_log_json_file (concatenated JSON objects)."""
    with open(path) as f:
        text = f.read()
    decoder = json.JSONDecoder()
    spawns, pos = [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return spawns
        spawn, pos = decoder.raw_decode(text, pos)
        spawns.append(spawn)


def pyc_spawns(spawns):
    return [s for s in spawns if s.get("mnemonic") == MNEMONIC]


class Bazel:
    """One workspace built with one output base; every command is `bazel --batch`.
    `bazel` is (path, version tuple), as find_bazel() returns."""

    def __init__(self, bazel, workspace, output_base, log_dir):
        self.bazel, self.version = bazel
        self.bzlmod = uses_bzlmod(self.version)
        self.workspace = workspace
        self.output_base = output_base
        self.log_dir = log_dir
        self.count = 0
        # Bazel 4 leaves its raw execution logs (exec<N>.log) in the JVM's temporary directory.
        self.jvm_tmp = output_base + "-tmp"
        os.makedirs(self.jvm_tmp, exist_ok=True)

    def run(self, command, args, check=True, timeout=2400):
        """Runs `bazel <command> <args>`; returns CompletedProcess (stdout and stderr text)."""
        cmd = [self.bazel, "--batch", "--output_base=" + self.output_base, "--nohome_rc",
               "--host_jvm_args=-Djava.io.tmpdir=" + self.jvm_tmp, command] + list(args)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        start = time.monotonic()
        result = subprocess.run(cmd, cwd=self.workspace, env=env, capture_output=True, text=True,
                                errors="replace", timeout=timeout)
        self.count += 1
        with open(os.path.join(self.log_dir, "bazel-%s-%d.log" % (os.path.basename(self.output_base), self.count)),
                  "w") as f:
            f.write("$ %s\n(%.1f s, exit status %d)\n%s\n%s" % (
                " ".join(cmd), time.monotonic() - start, result.returncode, result.stdout, result.stderr))
        if check and result.returncode != 0:
            raise AssertionError("bazel %s failed (%d) in %s:\n%s" % (
                " ".join([command] + list(args)), result.returncode, self.workspace, result.stderr[-6000:]))
        return result

    def build(self, targets, flags=(), check=True, log_name=None):
        """Builds `targets`; returns (CompletedProcess, spawns from the execution log)."""
        args = list(BUILD_FLAGS) + version_flags(self.version) + list(flags)
        log = None
        if log_name:
            log = os.path.join(self.log_dir, log_name + ".json")
            args.append("--execution_log_json_file=" + log)
        result = self.run("build", args + ["--"] + list(targets), check=check)
        spawns = read_execution_log(log) if log and os.path.exists(log) else []
        return result, spawns

    def execroot(self, workspace_name):
        return os.path.join(self.output_base, "execroot", main_repository(self.version, workspace_name))

    def bin_dirs(self, workspace_name):
        """Every configuration's bin directory (target, exec/host)."""
        return sorted(glob.glob(os.path.join(self.execroot(workspace_name), "bazel-out", "*", "bin")))

    def bin_dir(self, workspace_name):
        found = sorted(glob.glob(os.path.join(self.execroot(workspace_name), "bazel-out", "*-fastbuild", "bin")))
        if len(found) != 1:
            raise AssertionError("expected one target bin directory, found %s" % found)
        return found[0]


def digests(tree, suffix=".pyc"):
    """{path relative to `tree`: SHA-256} of every regular file ending in `suffix`."""
    result = {}
    for directory, _, files in os.walk(tree):
        for name in files:
            if name.endswith(suffix):
                path = os.path.join(directory, name)
                with open(path, "rb") as f:
                    result[os.path.relpath(path, tree)] = hashlib.sha256(f.read()).hexdigest()
    return result


def remove_outputs(tree):
    """Deletes a build's pyc outputs so the next build runs those actions again."""
    make_writable_and_remove(tree)


def processes_mentioning(text):
    """[(pid, command line)] of live processes whose command line contains `text`."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in cmdline:
            found.append((int(pid), cmdline[:300]))
    return found


def load_trace(stderr):
    """(files code objects were loaded from, stale/bad-magic lines), from `python -v` output."""
    loaded = set()
    problems = []
    for line in stderr.splitlines():
        if line.startswith("# code object from "):
            loaded.add(line[len("# code object from "):].strip("'"))
        if "bytecode is stale" in line or "bad magic" in line:
            problems.append(line)
    return loaded, problems
