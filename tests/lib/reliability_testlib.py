"""Helpers for pycemit's reliability tests (tests/reliability/), run by the host's python3.

On top of pycemit_testlib:
- `Pycemit`: runs pycemit with a unique marker in its environment (interpreters
  inherit it), a hard time limit (a hang fails the test instead of hanging it),
  and checks afterwards that no process of that run is left (interpreters must never
  outlive pycemit).
- `snapshot`, `temporaries`, `pyc_files`: the state of every output.
- `verify_tree`: verify_pycs.py over every planned pyc of a tree, in parallel.
- `make_fake_python`: a fake interpreter that execs a real one but misbehaves
  when a source being compiled contains a fault marker, or at start-up.
- `tmpfs`: a small mounted tmpfs (root only), unmounted on cleanup.
"""
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pycemit_testlib as lib  # noqa: E402

PYCEMIT = lib.PYCEMIT
TEMP_SUFFIX = ".pycemit-tmp"
MARKER_VARIABLE = "PYCEMIT_RELIABILITY_RUN"
# Text of pycemit's interpreter stub (tool/src/interpreter_process.cpp): in every interpreter's command line.
INTERPRETER_STUB_MARK = b"<pycemit-compiler>"
# An interpreter an unprivileged user can run (pyenv's live under /root).
SYSTEM_PYTHON = "/usr/bin/python3.11"


def scale():
    """Multiplier for trial counts ($PYCEMIT_RELIABILITY_SCALE, default 1)."""
    try:
        return max(0.05, float(os.environ.get("PYCEMIT_RELIABILITY_SCALE", "1")))
    except ValueError:
        return 1.0


# ---------------------------------------------------------------- processes

def processes_with_marker(marker):
    """PIDs of live (non-zombie) processes whose environment holds `marker`."""
    needle = ("%s=%s" % (MARKER_VARIABLE, marker)).encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as f:
                stat = f.read()
            if stat[stat.rindex(b")") + 2:stat.rindex(b")") + 3] in (b"Z", b"X"):
                continue
            with open("/proc/%s/environ" % entry, "rb") as f:
                env = f.read()
        except (OSError, ValueError):
            continue
        if needle + b"\0" in env or env.endswith(needle):
            found.append(int(entry))
    return found


def describe_process(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ")
    except OSError:
        cmd = b"?"
    return "%d: %s" % (pid, cmd[:160].decode("utf-8", "replace"))


def wait_for_no_processes(marker, grace=5.0):
    """[] once no process of the run is alive, else the survivors after `grace` s."""
    deadline = time.monotonic() + grace
    while True:
        alive = processes_with_marker(marker)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def kill_processes(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


class Pycemit:
    """Runs pycemit for one test case; every run gets a fresh marker."""

    def __init__(self, testcase, cache_dir=None):
        self.testcase = testcase
        self.cache_dir = cache_dir or os.environ.get("PYCEMIT_CACHE_DIR") or os.path.join(
            tempfile.gettempdir(), "pycemit-test-cache")

    def environment(self, marker, env=None):
        full = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        full["PYCEMIT_CACHE_DIR"] = self.cache_dir
        full[MARKER_VARIABLE] = marker
        full.update(env or {})
        return full

    def start(self, args, env=None, prefix=(), preexec_fn=None):
        """Popen of pycemit (binary output); returns (process, marker)."""
        marker = uuid.uuid4().hex
        proc = subprocess.Popen(list(prefix) + [PYCEMIT] + list(args), env=self.environment(marker, env),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=preexec_fn)
        return proc, marker

    def run(self, args, timeout=120, env=None, prefix=(), preexec_fn=None, check_processes=True):
        """Runs pycemit to its end; fails the test if it takes longer than
        `timeout` seconds (it is then killed) or if any process of the run is
        still alive afterwards. Returns CompletedProcess with text output
        (surrogateescape) and .seconds."""
        proc, marker = self.start(args, env, prefix, preexec_fn)
        started = time.monotonic()
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            kill_processes(wait_for_no_processes(marker, 2.0))
            self.testcase.fail("pycemit %s did not finish within %d s (killed); stderr:\n%s"
                               % (" ".join(args), timeout, err.decode("utf-8", "replace")[-3000:]))
        result = subprocess.CompletedProcess(proc.args, proc.returncode,
                                             out.decode("utf-8", "surrogateescape"),
                                             err.decode("utf-8", "surrogateescape"))
        result.seconds = time.monotonic() - started
        if check_processes:
            left = wait_for_no_processes(marker)
            kill_processes(left)
            self.testcase.assertEqual(left, [], "processes of the run outlived pycemit:\n"
                                      + "\n".join(describe_process(p) for p in left))
        return result


# ---------------------------------------------------------------- output state

def pyc_files(tree):
    return lib.outputs_in(tree, ".pyc")


def temporaries(tree):
    found = []
    for directory, _, files in os.walk(tree):
        found += [os.path.join(directory, f) for f in files if f.endswith(TEMP_SUFFIX)]
    return sorted(found)


def snapshot(tree):
    """{path: (sha256, size, mtime_ns, mode)} of every file below `tree` (not following symlinks)."""
    state = {}
    for directory, dirs, files in os.walk(tree):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(directory, d))]:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            if os.path.islink(path):
                state[path] = ("symlink:" + os.readlink(path), 0, st.st_mtime_ns, st.st_mode)
                continue
            if not stat.S_ISREG(st.st_mode):  # a FIFO must not be opened (it would block)
                state[path] = ("special", 0, st.st_mtime_ns, st.st_mode)
                continue
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            state[path] = (digest, st.st_size, st.st_mtime_ns, st.st_mode)
    return state


def digest_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def expectations_for(python, tree, sources, levels, mode="checked-hash", source_root=None):
    """verify_pycs.py expectations for `sources` compiled in place with --source-root
    `source_root` (default `tree`), so the embedded path is the relative path."""
    root = source_root or tree
    expected = lib.expected_paths(python, sources, levels)
    return [{"source": s, "pyc": p, "optimize": level, "mode": mode, "embedded": os.path.relpath(s, root)}
            for s, by_level in expected.items() for level, p in by_level.items()]


def verify_parallel(python, expectations, parts=2):
    """lib.verify over `expectations`, split over `parts` interpreter processes."""
    if not expectations:
        return
    chunks = [expectations[i::parts] for i in range(parts)]
    errors = []

    def one(chunk):
        try:
            lib.verify(python, chunk)
        except AssertionError as e:
            errors.append(str(e))

    threads = [threading.Thread(target=one, args=(c,)) for c in chunks if c]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise AssertionError("\n".join(errors))


def with_existing_pycs(expectations):
    return [e for e in expectations if os.path.exists(e["pyc"])]


# ---------------------------------------------------------------- trees

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return path


def copy_stdlib_subset(python, dest, packages):
    """The named top-level packages and modules of `python`'s standard library."""
    src = lib.stdlib_dir(python)
    os.makedirs(dest)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "test", "tests", "idle_test")
    for name in packages:
        if os.path.isdir(os.path.join(src, name)):
            shutil.copytree(os.path.join(src, name), os.path.join(dest, name), ignore=ignore)
        elif os.path.exists(os.path.join(src, name + ".py")):
            shutil.copy2(os.path.join(src, name + ".py"), dest)
    return dest


def interpreter_compiles(python, path):
    """What `python`'s own compile() and marshal.dumps() say about the file at
    `path`, called as pycemit's interpreter calls them: "ok", or "ExceptionType:
    message" (first line). The stack usage 3.14+ reports in a RecursionError
    ("Stack overflow (used 8156 kB)") varies from process to process: it is
    given as "(used <N> kB)"."""
    code = ("import marshal, sys\n"
            "src = open(sys.argv[1], 'rb').read()\n"
            "try:\n"
            "    marshal.dumps(compile(src, 'x.py', 'exec', dont_inherit=True))\n"
            "    print('ok')\n"
            "except Exception as e:\n"
            "    msg = e.msg if isinstance(e, SyntaxError) and e.msg else str(e)\n"
            "    print('%s: %s' % (type(e).__name__, msg.splitlines()[0] if msg else ''))\n")
    out = subprocess.run([python, "-S", "-B", "-c", code, path], capture_output=True, timeout=300,
                         env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")})
    return re.sub(r"\(used \d+ kB\)", "(used <N> kB)", out.stdout.decode("utf-8", "replace").strip())


_IMPORT_CHECK = r"""
import importlib, importlib._bootstrap_external as be, json, sys
def compiled_from_source(self, data, path, *args, **kwargs):
    raise ImportError("no usable pyc: %r was compiled from source" % (path,))
be.SourceLoader.source_to_code = compiled_from_source
request = json.loads(sys.stdin.read())
sys.path.insert(0, request["entry"])
cached = {}
for name in request["modules"]:
    module = importlib.import_module(name)
    cached[name] = module.__spec__.cached  # module.__cached__ is gone in 3.15
print(json.dumps(cached))
"""


def import_uses_pycs(python, path_entry, modules, flags=()):
    """Imports `modules` (names may be any file-system string, imported with
    importlib.import_module) in `python` with `path_entry` first on sys.path,
    -B and --check-hash-based-pycs always, with compiling from source
    disabled: succeeds only if every module's code came from its pyc. Returns
    {module: its spec's cached path}; raises AssertionError with the interpreter's error."""
    request = json.dumps({"entry": path_entry, "modules": list(modules)})
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    out = subprocess.run([python, "-S", "-B", "--check-hash-based-pycs", "always"] + list(flags)
                         + ["-c", _IMPORT_CHECK], input=request.encode(), capture_output=True, env=env,
                         timeout=300)
    if out.returncode != 0:
        raise AssertionError("import from pycs failed:\n" + out.stderr.decode("utf-8", "replace")[-3000:])
    return json.loads(out.stdout.decode())


# ---------------------------------------------------------------- fake interpreters

# Runs inside the real interpreter before pycemit's interpreter stub. Audit hooks see
# every compile() (PEP 578, 3.8+); a source holding "PYCEMIT-FAULT:<kind>" triggers <kind>.
_PRELUDE = r'''
import os as _pf_os, sys as _pf_sys
try:
    import resource as _pf_resource
    _pf_resource.setrlimit(_pf_resource.RLIMIT_CORE, (0, 0))
except Exception:
    pass
_pf_reply_fd = _pf_os.dup(1)
_pf_os.set_inheritable(_pf_reply_fd, False)
_pf_state = {}
_pf_dir = _pf_os.environ.get("PYCEMIT_FAULT_DIR", "/tmp")
_pf_start = %(start)r

def _pf_sleep_forever():
    import time
    while True:
        time.sleep(3600)

def _pf_close_reply_pipe():
    target = _pf_os.readlink("/proc/self/fd/%%d" %% _pf_reply_fd)
    for fd in _pf_os.listdir("/proc/self/fd"):
        try:
            if _pf_os.readlink("/proc/self/fd/" + fd) == target:
                _pf_os.close(int(fd))
        except OSError:
            pass

def _pf_fault(kind):
    import signal, struct, time
    if kind == "kill":
        _pf_os.kill(_pf_os.getpid(), signal.SIGKILL)
    elif kind == "segv":
        _pf_os.kill(_pf_os.getpid(), signal.SIGSEGV)
    elif kind == "exit":
        _pf_os._exit(0)
    elif kind == "hang":
        with open(_pf_os.path.join(_pf_dir, "hanging.pid"), "w") as f:
            f.write(str(_pf_os.getpid()))
        _pf_sleep_forever()
    elif kind == "slow":
        time.sleep(2)
    elif kind == "junk":
        _pf_os.write(_pf_reply_fd, b"\xff\xff\xff\xffthis is not a pycemit frame\n")
    elif kind == "badframe":
        _pf_os.write(_pf_reply_fd, struct.pack("<I", 1) + b"Z")
    elif kind == "partial":
        _pf_os.write(_pf_reply_fd, struct.pack("<I", 1000) + b"K")
        _pf_os._exit(1)
    elif kind == "close":
        _pf_close_reply_pipe()
        _pf_sleep_forever()
    elif kind == "flood":
        chunk = b"interpreter noise " * 5000 + b"\n"
        for _ in range(300):
            _pf_os.write(2, chunk)
    elif kind == "chatter":
        print("chatter on stdout from the compiled file's interpreter")
        _pf_os.write(1, b"chatter on fd 1\n")
    elif kind.startswith("marshal-"):
        _pf_state["marshal"] = kind

def _pf_hook(event, args):
    if event != "compile" or not args or not isinstance(args[0], bytes):
        return
    source = args[0]
    at = source.find(b"PYCEMIT-FAULT:")
    if at < 0:
        return
    import re
    for kind in re.findall(rb"PYCEMIT-FAULT:([a-z-]+)", source):
        _pf_fault(kind.decode())

_pf_sys.addaudithook(_pf_hook)

import marshal as _pf_marshal
_pf_real_dumps = _pf_marshal.dumps
def _pf_dumps(value, *rest):
    data = _pf_real_dumps(value, *rest)
    kind = _pf_state.pop("marshal", None)
    if kind == "marshal-truncated":
        return data[:len(data) // 2]
    if kind == "marshal-notcode":
        return _pf_real_dumps(("not", "a", "code", "object"))
    if kind == "marshal-trailing":
        return data + b"N"
    if kind == "marshal-garbage":
        return b"\x00\x01\x02garbage"
    return data
_pf_marshal.dumps = _pf_dumps

if _pf_start == "hello-junk":
    _pf_os.write(1, b"Welcome to FakePython!\n")
elif _pf_start == "bad-hash":
    import importlib.util
    importlib.util.source_hash = lambda data: b"\x00" * 8
elif _pf_start == "bad-magic":
    import importlib.util
    importlib.util.MAGIC_NUMBER = (3000).to_bytes(2, "little") + b"\r\n"
del _pf_start
'''

_WRAPPER = r'''#!%(host)s -IS
# A fake Python interpreter for pycemit's reliability tests (generated).
import os, sys
REAL = %(real)r
LATER = %(later)r          # interpreter for the second and later starts, if any
START = %(start)r
EXEC = %(exec_real)r
PRELUDE = %(prelude)r
counter = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.path.basename(__file__) + ".starts")
fd = os.open(counter, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
os.write(fd, b"x")
os.close(fd)
starts = os.path.getsize(counter)
real = LATER if (LATER and starts > 1) else REAL
if START == "die-after-first" and starts > 1:
    sys.stderr.write("fake python: cannot start a second time\n")
    sys.exit(1)
if START == "hang":
    import time
    time.sleep(3600)
args = sys.argv[1:]
if "-c" in args:
    i = args.index("-c")
    args[i + 1] = PRELUDE + args[i + 1]
if EXEC:
    os.execv(real, [real] + args)
import subprocess
sys.exit(subprocess.call([real] + args))
'''


def make_fake_python(directory, name, real, start=None, exec_real=True, later=None):
    """Writes an executable fake interpreter `directory`/`name` that runs `real`
    (with `exec`, so it is the same process, unless exec_real=False: then as a
    child) with the fault prelude. `start`: None, "hello-junk", "bad-hash",
    "bad-magic", "die-after-first", "hang". `later`: another real interpreter
    for every start after the first. Returns its path. Faults in sources:
    a comment "PYCEMIT-FAULT:<kind>" with kind in kill, segv, exit, hang, slow,
    junk, badframe, partial, close, flood, chatter, marshal-truncated,
    marshal-notcode, marshal-trailing, marshal-garbage."""
    path = os.path.join(directory, name)
    prelude = _PRELUDE % {"start": start}
    with open(path, "w") as f:
        f.write(_WRAPPER % {"host": sys.executable, "real": real, "later": later, "start": start,
                            "exec_real": exec_real, "prelude": prelude})
    os.chmod(path, 0o755)
    return path


# ---------------------------------------------------------------- file systems

@contextlib.contextmanager
def tmpfs(path, size=None, inodes=None):
    """Mounts a tmpfs at `path` (created) for the block; raises unittest.SkipTest
    when mounting is not permitted. Unmounts (lazily if busy) on exit."""
    os.makedirs(path, exist_ok=True)
    options = ["mode=0777"]
    if size:
        options.append("size=%s" % size)
    if inodes:
        options.append("nr_inodes=%d" % inodes)
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", path],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise unittest.SkipTest("cannot mount a tmpfs: " + out.stderr.strip())
    try:
        yield path
    finally:
        if subprocess.run(["umount", path], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", path], capture_output=True)


def remount(path, options):
    subprocess.run(["mount", "-o", "remount," + options, path], check=True, capture_output=True)


def can_mount():
    if os.geteuid() != 0:
        return False
    probe = tempfile.mkdtemp(prefix="pycemit-mount-probe-")
    try:
        with tmpfs(probe, size="64k"):
            return True
    except unittest.SkipTest:
        return False
    finally:
        os.rmdir(probe)


def unprivileged(args):
    """`args` run as nobody when we are root (root bypasses file modes)."""
    if os.geteuid() != 0:
        return list(args)
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + list(args)


def open_to_everyone(top):
    """Makes `top` and its parents traversable, and everything below writable,
    for an unprivileged pycemit."""
    d = os.path.abspath(top)
    while d != "/":
        st = os.stat(d)
        os.chmod(d, st.st_mode | 0o005)
        d = os.path.dirname(d)
    for directory, dirs, files in os.walk(top):
        os.chmod(directory, 0o777)
        for name in files:
            os.chmod(os.path.join(directory, name), 0o666)


def error_lines(stderr):
    """stderr without the summary line."""
    return [line for line in stderr.splitlines() if line and not line.startswith("pycemit: ")]


def summary(stderr):
    found = re.findall(r"(?m)^pycemit: (\d+) sources, (\d+) pycs written, (\d+) up to date, (\d+) failed", stderr)
    return tuple(int(x) for x in found[-1]) if found else None


def dump(result):
    return "exit %s\nstdout:\n%s\nstderr:\n%s" % (result.returncode, result.stdout[-3000:], result.stderr[-3000:])


def json_dump(path, value):
    with open(path, "w") as f:
        json.dump(value, f)
