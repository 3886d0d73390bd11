"""Helpers for the Bazel integration tests (tests/integration/test_bazel*.py).

They drive the real `bazel` (Debian's bazel-bootstrap 4.2.3 in CI, offline) against copies
of this repository's Bazel files (a "checkout" snapshot: WORKSPACE, MODULE.bazel, tool/,
bazel-rules/, examples/bazel/), each build with its own --output_base, in --batch mode so
that no Bazel server or persistent worker outlives a command.
"""
import glob
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import pycemit_testlib as lib  # noqa: E402

# What a checkout needs for Bazel: the module/workspace files, the tool, the rules, the example.
CHECKOUT_PATHS = ["WORKSPACE", "WORKSPACE.bzlmod", "MODULE.bazel", "BUILD.bazel", ".bazelrc", ".bazelignore",
                  "tool", "bazel-rules",
                  os.path.join("examples", "bazel")]

# Flags for every build: no convenience symlinks in the source tree, Bazel 4's JSON worker
# flag (the example's --config=bazel4; see its .bazelrc), quiet sandboxes, plain output.
BUILD_FLAGS = ["--symlink_prefix=/", "--config=bazel4", "--nosandbox_debug", "--color=no",
               "--curses=no", "--noshow_progress"]

MNEMONIC = "PyBytecode"


def find_bazel():
    """The bazel to test with: $PYCEMIT_BAZEL, else `bazel` on PATH (None if there is none)."""
    return os.environ.get("PYCEMIT_BAZEL") or shutil.which("bazel")


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


def pick_python():
    """(interpreter, "3.N") for the example's toolchain: a CPython 3.12 if installed (the
    pyenv one the README names), else the newest test interpreter."""
    pythons = lib.target_pythons()
    versions = {p: lib.python_version(p) for p in pythons}
    chosen = next((p for p in pythons if versions[p] == (3, 12)), None)
    chosen = chosen or max(pythons, key=lambda p: versions[p])
    return chosen, "%d.%d" % versions[chosen]


def configure_example(example, python, version):
    """Points the example's WORKSPACE-mode toolchain at `python` (version "3.N")."""
    with open(os.path.join(example, "python.bzl"), "w") as f:
        f.write('"""Written by the Bazel integration test."""\n\n'
                'PYTHON_INTERPRETER = %s\n\nPYTHON_VERSION = %s\n' % (json.dumps(python), json.dumps(version)))


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
    """One workspace built with one output base; every command is `bazel --batch`."""

    def __init__(self, bazel, workspace, output_base, log_dir):
        self.bazel = bazel
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
        args = list(BUILD_FLAGS) + list(flags)
        log = None
        if log_name:
            log = os.path.join(self.log_dir, log_name + ".json")
            args.append("--execution_log_json_file=" + log)
        result = self.run("build", args + ["--"] + list(targets), check=check)
        spawns = read_execution_log(log) if log and os.path.exists(log) else []
        return result, spawns

    def execroot(self, workspace_name):
        return os.path.join(self.output_base, "execroot", workspace_name)

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
