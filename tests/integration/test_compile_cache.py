"""The compile cache (local directory and HTTP remote) saves interpreter work and
never changes a byte of output.

The cache stores each pyc's canonical marshal body under a key of everything
the body depends on (interpreter, optimization level, embedded path, source
bytes), so a second tree with the same sources at another place skips the
interpreter. What is tested, with real trees (standard-library packages, a file
with a non-ASCII name, a file with a SyntaxWarning), real interpreters, a real
nginx and a misbehaving HTTP server of our own:

- a second tree hits every entry, starts no interpreter and gets exactly the
  bytes of a cache-less run, in every invalidation mode (one entry serves all),
  and the interpreter uses those pycs; entries are named and filled as the
  interface says (key = SHA-256 of the key text, value = pyc minus header);
- anything the body depends on (embedded path, level, interpreter) misses;
- a corrupt or wrong entry is dropped and recompiled, never written as a pyc;
- a cache directory others may write to is refused (exit 2, nothing written);
- concurrent runs share a cache; kill -9 during stores leaves no bad entry and
  no process;
- the size limit, LRU eviction, `cache stats/trim/clear`;
- the remote cache through nginx (PUT/GET, read-only, bearer token, basic auth,
  credentials refused in the URL), and every kind of remote failure: one
  warning, the remote is abandoned after a bounded number of requests, the
  output is still the cache-less bytes, exit status 0.

The cache-less reference of every comparison is a run of the same pycemit on a
copy of the same tree (same relative layout, same mtimes) without any cache.
"""
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pycemit_testlib as lib  # noqa: E402
import reliability_testlib as rlib  # noqa: E402
from http_fault_server import FaultServer  # noqa: E402
from nginx_server import NginxServer, free_port, nginx_path  # noqa: E402

LEVELS = ["-O", "0", "-O", "1"]
MODES = ["checked-hash", "unchecked-hash", "timestamp"]
PACKAGES = ["json", "email", "importlib"]
BIG_PACKAGES = PACKAGES + ["http", "xml", "logging", "concurrent", "urllib", "asyncio", "unittest", "encodings",
                           "multiprocessing", "ctypes", "html", "wsgiref", "xmlrpc", "sqlite3", "tomllib", "zoneinfo"]
REMOTE_WARNING = "pycemit: warning: remote cache "
ENTRY_NAME = re.compile(r"^[0-9a-f]{64}$")
CACHE_VARIABLES = ("PYCEMIT_COMPILE_CACHE", "PYCEMIT_COMPILE_CACHE_MAX_SIZE", "PYCEMIT_REMOTE_CACHE",
                   "PYCEMIT_REMOTE_CACHE_READ_ONLY", "PYCEMIT_REMOTE_CACHE_TOKEN", "PYCEMIT_REMOTE_CACHE_BASIC_AUTH")

EXTRA_FILES = {
    # A non-ASCII file name (its embedded path, hence its key, is not ASCII).
    "caf\u00e9_\u6a21\u5757.py": "N\u00c4ME = '\u00e9t\u00e9'\n\ndef f():\n    return N\u00c4ME\n",
    # SyntaxWarning on every CPython >= 3.8 ("is" with a literal, assert on a tuple).
    "warns.py": "def f(x):\n    assert (x, 'always true')\n    return x is 1\n",
}

# Runs inside the target interpreter: the key text of docs/cache.md for each
# (source, embedded path, level) on stdin; prints the hex keys.
KEY_SCRIPT = r"""
import hashlib, importlib.util, json, marshal, sys, sysconfig
def version(v):
    return "%d.%d.%d %s %d" % (v[0], v[1], v[2], v[3], v[4])
tag = sys.implementation.cache_tag
head = ("pycemit compile cache\ncache-format 1\ncanonical-marshal 1\n"
        "implementation %s\nversion %s\nimplementation-version %s\nfree-threaded %d\n"
        "cache-tag %s\nmagic-number %d\nmarshal-version %d\n") % (
    sys.implementation.name, version(sys.version_info), "%d.%d.%d" % tuple(sys.implementation.version[:3]),
    1 if sysconfig.get_config_var("Py_GIL_DISABLED") else 0, "None" if tag is None else tag,
    int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little"), marshal.version)
keys = []
for source, embedded, level in json.load(sys.stdin):
    with open(source, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    path = embedded.encode("utf-8", "surrogateescape")
    text = head.encode() + b"optimization-level %d\nembedded-path %d " % (level, len(path)) + path + b"\n"
    text += b"source-sha256 " + digest.encode() + b"\n"
    keys.append(hashlib.sha256(text).hexdigest())
print(json.dumps(keys))
"""


def clean_env():
    """os.environ without any cache setting of the caller's."""
    return {k: v for k, v in os.environ.items() if k not in CACHE_VARIABLES}


def entries(cache):
    """{key: path} of every entry file of a local cache (DIR/v1/xx/<key>)."""
    found = {}
    top = os.path.join(cache, "v1")
    if not os.path.isdir(top):
        return found
    for sub in os.listdir(top):
        if sub == "tmp" or not os.path.isdir(os.path.join(top, sub)):
            continue
        for name in os.listdir(os.path.join(top, sub)):
            if ENTRY_NAME.match(name):
                found[name] = os.path.join(top, sub, name)
    return found


def strays(cache):
    """Files under DIR/v1/xx/ that are not entries (a killed writer's temporaries, *.pycemit-tmp)."""
    top = os.path.join(cache, "v1")
    if not os.path.isdir(top):
        return []
    return sorted(os.path.join(top, sub, name) for sub in os.listdir(top) if sub != "tmp"
                  and os.path.isdir(os.path.join(top, sub)) for name in os.listdir(os.path.join(top, sub))
                  if not ENTRY_NAME.match(name))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def bodies(tree):
    """{pyc path relative to tree: body (pyc minus its 16-byte header)}."""
    return {os.path.relpath(p, tree): read(p)[16:] for p in lib.outputs_in(tree)}


def remote_warnings(stderr):
    return [line for line in stderr.splitlines() if line.startswith(REMOTE_WARNING)]


def private_dir(path):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o700)
    return path


class CompileCacheTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        nginx_path()  # fails, not skips, without nginx
        for variable in CACHE_VARIABLES:
            os.environ.pop(variable, None)
        pythons = lib.target_pythons()
        cls.python = pythons[-1]
        others = [p for p in lib.interpreters.cpythons() if lib.python_version(p) != lib.python_version(cls.python)]
        cls.other_python = others[-1] if others else None
        cls.tmp_class = tempfile.TemporaryDirectory(prefix="pycemit cache ")
        cls.template = os.path.join(cls.tmp_class.name, "template")
        rlib.copy_stdlib_subset(cls.python, cls.template, PACKAGES)
        for name, text in EXTRA_FILES.items():
            with open(os.path.join(cls.template, name), "w", encoding="utf-8") as f:
                f.write(text)
        cls.references = {}
        cls.counter = 0

    @classmethod
    def tearDownClass(cls):
        cls.tmp_class.cleanup()

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit cache test ")
        self.addCleanup(self.tmp.cleanup)
        self.pycemit = rlib.Pycemit(self)
        print("\n%s: interpreter %s" % (self.id().split(".")[-1], self.python), file=sys.stderr)
        started = time.monotonic()
        self.addCleanup(lambda: print("(%.1f s)" % (time.monotonic() - started), file=sys.stderr))

    # ------------------------------------------------------------ helpers

    def tree(self, name=None, template=None):
        """A fresh copy of the template (same mtimes) at a new path outside the repository."""
        type(self).counter += 1
        dest = os.path.join(self.tmp.name, "place %d" % self.counter, name or "tree")
        shutil.copytree(template or self.template, dest)
        return dest

    def compile(self, tree, *args, python=None, env=None, levels=LEVELS, mode="checked-hash", expect=0,
                timeout=300):
        """Runs compile over `tree` (source root `tree`); returns (result, stats)."""
        type(self).counter += 1
        stats = os.path.join(self.tmp.name, "stats %d.json" % self.counter)
        full_env = clean_env()
        full_env.update(env or {})
        argv = ["compile", "--python", python or self.python, "--invalidation-mode", mode,
                "--source-root", tree, "--stats", stats] + list(levels) + list(args) + [tree]
        result = self.pycemit.run(argv, env=full_env, timeout=timeout)
        result.argv = argv
        if expect is not None:
            self.assertEqual(result.returncode, expect, "pycemit %s\n%s" % (" ".join(argv), rlib.dump(result)))
        counts = {}
        if os.path.exists(stats):
            with open(stats) as f:
                counts = json.load(f)
        return result, counts

    def reference(self, mode="checked-hash", levels=LEVELS, python=None, template=None, extra=()):
        """{relative pyc path: sha256} of a cache-less run on a copy of the template."""
        key = (python or self.python, mode, tuple(levels), template, tuple(extra))
        if key not in self.references:
            tree = self.tree("reference", template)
            self.compile(tree, *extra, python=python, levels=levels, mode=mode)
            self.references[key] = lib.tree_digest(tree)
            self.assertGreater(len(self.references[key]), 0)
        return self.references[key]

    def assert_like_reference(self, tree, mode="checked-hash", levels=LEVELS, python=None, template=None, extra=()):
        digest = lib.tree_digest(tree)
        reference = self.reference(mode, levels, python, template, extra)
        self.assertEqual(sorted(digest), sorted(reference), "the same pycs as a cache-less run")
        differing = [p for p in digest if digest[p] != reference[p]]
        self.assertEqual(differing, [], "pycs that differ from a cache-less run")

    def assert_all_hit(self, counts, tree, local=True):
        outputs = len(lib.outputs_in(tree))
        self.assertGreater(outputs, 0)
        self.assertEqual(counts["written"], outputs, counts)
        self.assertEqual(counts["cache_hits" if local else "remote_hits"], outputs, counts)
        self.assertEqual(counts["cache_misses"], 0, counts)
        self.assertEqual(counts["interpreters_started"], 0, counts)

    def assert_all_missed(self, counts, tree):
        outputs = len(lib.outputs_in(tree))
        self.assertEqual(counts["written"], outputs, counts)
        self.assertEqual(counts["cache_misses"], outputs, counts)
        self.assertEqual(counts["cache_hits"], 0, counts)
        self.assertEqual(counts.get("remote_hits", 0), 0, counts)

    def cache_dir(self, name="cache"):
        """A path for a cache that does not exist yet (its parent is private)."""
        return os.path.join(private_dir(os.path.join(self.tmp.name, "caches %s" % name)), "dir")

    def cache_stats(self, cache, env=None):
        result = self.pycemit.run(["cache", "stats", "--cache", cache, "--json"], env=dict(clean_env(), **(env or {})))
        self.assertEqual(result.returncode, 0, rlib.dump(result))
        return json.loads(result.stdout)

    def expectations(self, tree, levels=(0, 1), mode="checked-hash", python=None):
        return rlib.expectations_for(python or self.python, tree, lib.sources_in(tree), list(levels), mode)

    def assert_used(self, tree, python=None):
        """The interpreter loads json and email from the tree's pycs."""
        python = python or self.python
        modules = ["json", "email.message"]
        files, loaded, stale = lib.imported_from(python, tree, modules)
        self.assertEqual(stale, [])
        expected = lib.expected_paths(python, sorted(files.values()), [0])
        for module, source in files.items():
            self.assertTrue(source.startswith(tree), "%s imported from %s" % (module, source))
            self.assertIn(expected[source][0], loaded, "%s was not loaded from its pyc" % module)

    def keys_of(self, tree, levels=(0, 1), python=None):
        """{key computed as the interface says: (relative source path, level)}."""
        requests = [(s, os.path.relpath(s, tree), level) for s in lib.sources_in(tree) for level in levels]
        out = subprocess.run([python or self.python, "-S", "-B", "-c", KEY_SCRIPT], input=json.dumps(requests),
                             capture_output=True, text=True, check=True)
        return {k: (r[1], r[2]) for k, r in zip(json.loads(out.stdout), requests)}

    # ------------------------------------------------------------ local cache

    def test_a_second_tree_hits_every_entry_and_gets_the_cache_less_bytes_in_every_mode(self):
        cache = self.cache_dir()
        first = self.tree("tree A")
        result, counts = self.compile(first, "--cache", cache)
        self.assertGreater(counts["cache_misses"], 0, counts)
        self.assertGreater(counts["cache_stores"], 0, counts)
        self.assertEqual(counts["cache_stores"], counts["written"], counts)
        self.assertEqual(counts["cache_hits"], 0, counts)
        self.assertTrue(os.path.exists(os.path.join(cache, "CACHEDIR.TAG")))
        with open(os.path.join(cache, "CACHEDIR.TAG"), "rb") as f:
            self.assertTrue(f.read().startswith(b"Signature: 8a477f597d28d172789f06886806bc55"))
        for mode in MODES:
            with self.subTest(mode=mode):
                other = self.tree(os.path.join("elsewhere", "tree B " + mode))
                result, counts = self.compile(other, "--cache", cache, mode=mode)
                self.assert_all_hit(counts, other)
                self.assertEqual(counts["cache_stores"], 0, counts)
                self.assertEqual(counts["cache_dropped"], 0, counts)
                self.assert_like_reference(other, mode)
                if mode == "checked-hash":
                    # The other modes' bodies are these bytes (the cache-less comparison shows it).
                    rlib.verify_parallel(self.python, self.expectations(other, mode=mode))
                    self.assert_used(other)
        with self.subTest(via="PYCEMIT_COMPILE_CACHE"):
            third = self.tree("tree C")
            result, counts = self.compile(third, env={"PYCEMIT_COMPILE_CACHE": cache})
            self.assert_all_hit(counts, third)
            self.assert_like_reference(third)
            # compileall honours the environment too: its second run over one tree hits.
            tree = self.tree("compileall")
            digests = []
            for run in range(2):
                stats = os.path.join(self.tmp.name, "compileall %d.json" % run)
                result = self.pycemit.run(["compileall", "-q", "--python", self.python, "--invalidation-mode",
                                           "checked-hash", "--stats", stats, tree],
                                          env=dict(clean_env(), PYCEMIT_COMPILE_CACHE=cache))
                self.assertEqual(result.returncode, 0, rlib.dump(result))
                with open(stats) as f:
                    counts = json.load(f)
                digests.append(lib.tree_digest(tree))
                if run == 0:
                    self.assertEqual(counts["cache_stores"], counts["written"], counts)
                    for d, _, _ in list(os.walk(tree)):
                        if os.path.basename(d) == "__pycache__":
                            shutil.rmtree(d)
                else:
                    self.assertEqual(counts["cache_hits"], counts["written"], counts)
                    self.assertEqual(counts["interpreters_started"], 0, counts)
            self.assertEqual(digests[0], digests[1])
            # --no-cache turns the environment's cache off.
            fourth = self.tree("tree D")
            result, counts = self.compile(fourth, "--no-cache", env={"PYCEMIT_COMPILE_CACHE": cache})
            self.assertEqual(counts.get("cache_hits", 0), 0, counts)
            self.assertGreater(counts["interpreters_started"], 0, counts)
            self.assert_like_reference(fourth)

    def test_a_run_that_hits_everything_is_cheap(self):
        """Reading entries costs about their size: no interpreter, little memory."""
        cache = self.cache_dir()
        result, compiled = self.compile(self.tree("A"), "--cache", cache)
        tree = self.tree("B")
        result, counts = self.compile(tree, "--cache", cache)
        self.assert_all_hit(counts, tree)
        total = sum(os.path.getsize(p) for p in entries(cache).values())
        print("compiling: %.2f s, %d KiB; hitting %d entries (%d KiB): %.2f s, %d KiB"
              % (compiled["seconds"], compiled["peak_rss_kib"], len(entries(cache)), total // 1024,
                 counts["seconds"], counts["peak_rss_kib"]), file=sys.stderr)
        self.assertLess(counts["peak_rss_kib"], 256 * 1024, "peak memory of a run that only reads entries")

    def test_entries_are_named_by_the_key_and_hold_the_pyc_body(self):
        cache = self.cache_dir()
        tree = self.tree()
        self.compile(tree, "--cache", cache)
        found = entries(cache)
        pyc_bodies = bodies(tree)
        self.assertEqual(len(found), len(pyc_bodies), "one entry per pyc")
        self.assertEqual(sorted(read(p) for p in found.values()), sorted(pyc_bodies.values()),
                         "an entry is its pyc minus the 16-byte header")
        for key, path in found.items():
            self.assertRegex(key, ENTRY_NAME)
            self.assertEqual(os.path.basename(os.path.dirname(path)), key[:2])
        mode = stat.S_IMODE(os.stat(cache).st_mode)
        self.assertEqual(mode & 0o022, 0, "the cache directory is created writable by its owner only")
        with self.subTest("the key of docs/cache.md"):
            keys = self.keys_of(tree)
            pycs = lib.expected_paths(self.python, lib.sources_in(tree), [0, 1])
            self.assertEqual(len(set(found) & set(keys)), len(keys), "entries named by the spec's keys")
            for key, (rel, level) in keys.items():
                self.assertEqual(read(found[key]), read(pycs[os.path.join(tree, rel)][level])[16:], rel)

    def test_anything_the_body_depends_on_changes_the_key(self):
        cache = self.cache_dir()
        self.compile(self.tree("A"), "--cache", cache, levels=["-O", "0"])
        # Sources both interpreters compile: the older one's json and the extra files.
        small = os.path.join(self.tmp.name, "small template")
        self.assertIsNotNone(self.other_python, "a second CPython is needed")
        print("other interpreter: %s" % self.other_python, file=sys.stderr)
        rlib.copy_stdlib_subset(self.other_python, small, ["json"])
        for name in EXTRA_FILES:
            shutil.copy2(os.path.join(self.template, name), small)
        self.compile(self.tree("A small", small), "--cache", cache, levels=["-O", "0"])
        cases = [("embed prefix", ["--embed-prefix", "site/pkgs"], ["-O", "0"], None, None),
                 ("level", [], ["-O", "2"], None, None),
                 ("interpreter", [], ["-O", "0"], self.other_python, small)]
        for name, extra, levels, python, template in cases:
            with self.subTest(differs=name):
                tree = self.tree("B " + name, template)
                result, counts = self.compile(tree, "--cache", cache, *extra, levels=levels, python=python)
                self.assert_all_missed(counts, tree)
                self.assert_like_reference(tree, levels=levels, python=python, template=template, extra=tuple(extra))
                again = self.tree("C " + name, template)
                result, counts = self.compile(again, "--cache", cache, *extra, levels=levels, python=python)
                self.assert_all_hit(counts, again)
                self.assert_like_reference(again, levels=levels, python=python, template=template, extra=tuple(extra))

    def test_a_bad_entry_is_dropped_and_recompiled(self):
        cache = self.cache_dir()
        first = self.tree("A")
        self.compile(first, "--cache", cache, levels=["-O", "0"])
        by_body = {body: rel for rel, body in bodies(first).items()}
        found = entries(cache)
        owner = {key: by_body[read(path)] for key, path in found.items()}
        names = sorted(found)
        garbage, wrong, donor = names[0], names[1], names[2]
        with open(found[garbage], "wb") as f:
            f.write(b"\xe3 garbage, not a marshal stream " * 10)
        shutil.copyfile(found[donor], found[wrong])   # valid and canonical, but another source's code
        truncated = names[3]
        data = read(found[truncated])
        with open(found[truncated], "wb") as f:
            f.write(data[:len(data) // 2])
        second = self.tree("B")
        result, counts = self.compile(second, "--cache", cache, levels=["-O", "0"])
        self.assertEqual(counts["cache_dropped"], 3, counts)
        self.assertEqual(counts["cache_misses"], 3, counts)
        self.assertEqual(counts["cache_hits"], counts["written"] - 3, counts)
        self.assert_like_reference(second, levels=["-O", "0"])
        now = bodies(second)
        for key in (garbage, wrong, truncated):
            self.assertTrue(os.path.exists(found[key]), "the bad entry is replaced by the recompiled one")
            self.assertEqual(read(found[key]), now[owner[key]], owner[key])
        rlib.verify_parallel(self.python, self.expectations(second, levels=[0]))

    def test_a_cache_directory_others_may_write_is_refused(self):
        for mode in (0o777, 0o775, 0o757):
            with self.subTest(mode=oct(mode)):
                cache = self.cache_dir(oct(mode))
                os.makedirs(cache)
                os.chmod(cache, mode)
                tree = self.tree()
                result, counts = self.compile(tree, "--cache", cache, expect=2)
                self.assertIn("refusing the compile cache", result.stderr)
                self.assertEqual(lib.outputs_in(tree), [], "no pyc is written")
                self.assertEqual(os.listdir(cache), [], "nothing is written into the cache")
                result, counts = self.compile(tree, env={"PYCEMIT_COMPILE_CACHE": cache}, expect=2)
                self.assertIn("refusing the compile cache", result.stderr)
                self.assertEqual(lib.outputs_in(tree), [])
        with self.subTest(owner="nobody"):
            cache = self.cache_dir("nobody")
            os.makedirs(cache)
            os.chmod(cache, 0o700)
            os.chown(cache, 65534, 65534)
            tree = self.tree()
            result, counts = self.compile(tree, "--cache", cache, expect=2)
            self.assertIn("refusing the compile cache", result.stderr)
            self.assertEqual(lib.outputs_in(tree), [])

    def test_concurrent_runs_share_one_cache(self):
        cache = self.cache_dir()
        trees = [self.tree("concurrent %d" % i) for i in range(2)]
        procs = []
        for tree in trees:
            argv = ["compile", "-q", "--python", self.python, "--invalidation-mode", "checked-hash",
                    "--source-root", tree, "--cache", cache] + LEVELS + [tree]
            procs.append(self.pycemit.start(argv, env=clean_env()))
        for (proc, marker), tree in zip(procs, trees):
            out, err = proc.communicate(timeout=300)
            self.assertEqual(proc.returncode, 0, err.decode(errors="replace"))
            self.assertEqual(rlib.wait_for_no_processes(marker), [])
            self.assert_like_reference(tree)
        third = self.tree("third")
        result, counts = self.compile(third, "--cache", cache)
        self.assert_all_hit(counts, third)
        self.assert_like_reference(third)

    def test_kill_during_stores_leaves_only_whole_entries_and_no_process(self):
        big = os.path.join(self.tmp.name, "big template")
        rlib.copy_stdlib_subset(self.python, big, BIG_PACKAGES)
        reference_tree = self.tree("reference", big)
        self.compile(reference_tree, levels=["-O", "0"])
        reference = lib.tree_digest(reference_tree)
        valid_bodies = set(bodies(reference_tree).values())
        print("kill trials over %d sources" % len(lib.sources_in(big)), file=sys.stderr)
        cache = self.cache_dir()
        killed = 0
        for delay in (0.05, 0.15, 0.3, 0.6, 1.2, 2.5):
            with self.subTest(delay=delay):
                tree = self.tree("killed %s" % delay, big)
                argv = ["compile", "-q", "--python", self.python, "--invalidation-mode", "checked-hash",
                        "--source-root", tree, "--cache", cache, "-O", "0", tree]
                proc, marker = self.pycemit.start(argv, env=clean_env())
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                proc.communicate(timeout=60)
                killed += proc.returncode == -signal.SIGKILL
                left = rlib.wait_for_no_processes(marker)
                rlib.kill_processes(left)
                self.assertEqual(left, [], "processes outlived the killed run:\n"
                                 + "\n".join(rlib.describe_process(p) for p in left))
                bad = [p for p in entries(cache).values() if read(p) not in valid_bodies]
                self.assertEqual(bad, [], "entries that are not a whole body")
                with self.subTest("only temporaries beside the entries", delay=delay):
                    self.assertEqual([p for p in strays(cache) if not p.endswith(".pycemit-tmp")], [],
                                     "files beside the entries that are neither entries nor temporaries")
        stored = len(entries(cache))
        print("entries after the kills: %d; %d of the runs killed before they finished" % (stored, killed),
              file=sys.stderr)
        self.assertGreater(killed, 0, "every run finished before its kill: nothing tested a kill during stores")
        self.assertGreater(stored, 0, "the kills came too late or too early to test stores")
        tree = self.tree("after", big)
        result, counts = self.compile(tree, "--cache", cache, levels=["-O", "0"])
        self.assertEqual(counts["cache_dropped"], 0, counts)
        self.assertEqual(counts["cache_hits"], stored, counts)
        self.assertEqual(lib.tree_digest(tree), reference)
        complete = len(entries(cache))  # the kills' entries and what the last run stored
        self.pycemit.run(["cache", "trim", "--cache", cache], env=clean_env())
        self.assertEqual(strays(cache), [], "temporaries of killed writers left after a trim")
        self.assertEqual(len(entries(cache)), complete, "a trim below the size limit removed entries")

    def test_the_size_limit_and_least_recently_used_eviction(self):
        with self.subTest("--cache-max-size"):
            cache = self.cache_dir("limited")
            tree = self.tree()
            result, counts = self.compile(tree, "--cache", cache, "--cache-max-size", "200K")
            total = sum(len(b) for b in bodies(tree).values())
            self.assertGreater(total, 400 * 1024, "the tree's entries must exceed the limit")
            # The limit is the run's setting, not kept in the cache: stats reports its own.
            self.assertEqual(self.cache_stats(cache, env={"PYCEMIT_COMPILE_CACHE_MAX_SIZE": "200K"})["max_bytes"],
                             200 * 1024)
            info = self.cache_stats(cache)
            self.assertEqual(info["max_bytes"], 1 << 30, "the default limit is 1G")
            self.assertLessEqual(info["bytes"], 200 * 1024, info)
            self.assertLessEqual(info["bytes"], 0.9 * 200 * 1024 + 1, "trimmed to 90% of the limit")
            self.assertGreater(info["entries"], 0, info)
            self.assertEqual(info["entries"], len(entries(cache)), info)
            self.assertEqual(info["bytes"], sum(os.path.getsize(p) for p in entries(cache).values()), info)
            self.assert_like_reference(tree)
        with self.subTest("PYCEMIT_COMPILE_CACHE_MAX_SIZE"):
            cache = self.cache_dir("limited by env")
            self.compile(self.tree(), "--cache", cache, env={"PYCEMIT_COMPILE_CACHE_MAX_SIZE": "100K"})
            info = self.cache_stats(cache, env={"PYCEMIT_COMPILE_CACHE_MAX_SIZE": "100K"})
            self.assertEqual(info["max_bytes"], 100 * 1024, info)
            self.assertLessEqual(info["bytes"], 100 * 1024, info)

        # Two halves of the tree; the first is used again last, so the second is the least recently used.
        one = os.path.join(self.tmp.name, "template one")
        two = os.path.join(self.tmp.name, "template two")
        rlib.copy_stdlib_subset(self.python, one, ["json", "importlib"])
        rlib.copy_stdlib_subset(self.python, two, ["email"])
        cache = self.cache_dir("lru")
        self.compile(self.tree("one", one), "--cache", cache)
        first_entries = set(entries(cache))
        time.sleep(0.05)
        self.compile(self.tree("two", two), "--cache", cache)
        second_entries = set(entries(cache)) - first_entries
        time.sleep(0.05)
        again = self.tree("one again", one)
        result, counts = self.compile(again, "--cache", cache)
        self.assert_all_hit(counts, again)
        sizes = {k: os.path.getsize(p) for k, p in entries(cache).items()}
        first_bytes = sum(sizes[k] for k in first_entries)
        second_bytes = sum(sizes[k] for k in second_entries)
        self.assertGreater(second_bytes, first_bytes // 5)
        stats_text = self.pycemit.run(["cache", "stats", "--cache", cache], env=clean_env())
        self.assertRegex(stats_text.stdout, r"(?m)^entries: %d$" % len(sizes))
        self.assertRegex(stats_text.stdout, r"(?m)^size: %d bytes$" % sum(sizes.values()))
        self.assertRegex(stats_text.stdout, r"(?m)^max size: %d bytes$" % (1 << 30))

        limit = int(first_bytes / 0.9) + 1024
        result = self.pycemit.run(["cache", "trim", "--cache", cache, "--max-size", str(limit)], env=clean_env())
        self.assertEqual(result.returncode, 0, rlib.dump(result))
        left = set(entries(cache))
        self.assertEqual(first_entries - left, set(), "the recently used entries survive the trim")
        self.assertLess(len(left & second_entries), len(second_entries), "least recently used go first")
        self.assertLessEqual(self.cache_stats(cache)["bytes"], limit)
        result, counts = self.compile(self.tree("one third", one), "--cache", cache)
        self.assertEqual(counts["cache_hits"], counts["written"], counts)

        # trim without --max-size trims to the configured limit, here the default 1G: nothing goes.
        result = self.pycemit.run(["cache", "trim"], env=dict(clean_env(), PYCEMIT_COMPILE_CACHE=cache))
        self.assertEqual(result.returncode, 0, rlib.dump(result))
        self.assertEqual(set(entries(cache)), left)

        result = self.pycemit.run(["cache", "clear", "--cache", cache], env=clean_env())
        self.assertEqual(result.returncode, 0, rlib.dump(result))
        self.assertEqual(entries(cache), {})
        self.assertEqual(self.cache_stats(cache)["entries"], 0)
        tree = self.tree("after clear", one)
        result, counts = self.compile(tree, "--cache", cache)
        self.assert_all_missed(counts, tree)

    # ------------------------------------------------------------ remote cache

    def test_remote_cache_through_nginx(self):
        with NginxServer() as server:
            url = server.url("pyc")
            first = self.tree("A")
            result, counts = self.compile(first, "--remote-cache", url)
            self.assertEqual(remote_warnings(result.stderr), [])
            self.assertEqual(counts["remote_stores"], counts["written"], counts)
            self.assertEqual(counts["cache_misses"], counts["written"], counts)
            self.assertEqual(counts.get("cache_stores", 0), 0, "no local cache")
            stored = server.files("pyc")
            self.assertTrue(all(ENTRY_NAME.match(name) for name in stored), sorted(stored)[:5])
            self.assertEqual(sorted(stored.values()), sorted(bodies(first).values()))
            with self.subTest("the key of docs/cache.md"):
                self.assertEqual(len(set(stored) & set(self.keys_of(first))), len(stored),
                                 "remote entries named by the spec's keys")

            local = self.cache_dir()
            second = self.tree("B")
            result, counts = self.compile(second, "--cache", local, "--remote-cache", url)
            self.assert_all_hit(counts, second, local=False)
            self.assertEqual(counts["cache_stores"], counts["written"], "remote hits are stored locally")
            self.assertEqual(counts["remote_stores"], 0, counts)
            self.assert_like_reference(second)
            self.assert_used(second)

            with self.subTest(via="PYCEMIT_REMOTE_CACHE"):
                tree = self.tree("env")
                result, counts = self.compile(tree, env={"PYCEMIT_REMOTE_CACHE": url})
                self.assert_all_hit(counts, tree, local=False)
                self.assert_like_reference(tree)

            server.stop()
            third = self.tree("C")
            result, counts = self.compile(third, "--cache", local, "--remote-cache", url)
            self.assert_all_hit(counts, third)
            self.assert_like_reference(third)

    def test_a_read_only_remote_is_never_written(self):
        with NginxServer() as server:
            url = server.url("pyc")
            for how, args, env in [("option", ["--remote-cache-read-only"], {}),
                                   ("environment", [], {"PYCEMIT_REMOTE_CACHE_READ_ONLY": "1"})]:
                with self.subTest(read_only=how):
                    tree = self.tree(how)
                    result, counts = self.compile(tree, "--remote-cache", url, *args, env=env)
                    self.assertEqual(remote_warnings(result.stderr), [])
                    self.assertEqual(counts["remote_stores"], 0, counts)
                    self.assertEqual(server.files(), {}, "nothing PUT")
                    self.assertEqual(server.requests("PUT"), [])
                    self.assertGreater(len(server.requests("GET")), 0)
                    self.assert_like_reference(tree)

    def test_a_remote_that_needs_a_token_or_a_password(self):
        token = "t0ken-%d" % os.getpid()
        token_file = os.path.join(self.tmp.name, "token")
        with open(token_file, "w") as f:
            f.write(token + "\n")
        os.chmod(token_file, 0o600)
        with NginxServer(token=token) as server:
            url = server.url("pyc")
            with self.subTest(token="environment"):
                tree = self.tree("env token")
                result, counts = self.compile(tree, "--remote-cache", url, env={"PYCEMIT_REMOTE_CACHE_TOKEN": token})
                self.assertEqual(remote_warnings(result.stderr), [])
                self.assertEqual(counts["remote_stores"], counts["written"], counts)
                self.assertNotIn(token, result.stderr + result.stdout)
            with self.subTest(token="file"):
                tree = self.tree("file token")
                result, counts = self.compile(tree, "--remote-cache", url, "--remote-cache-token-file", token_file)
                self.assert_all_hit(counts, tree, local=False)
                self.assert_like_reference(tree)
            with self.subTest(token="none"):
                tree = self.tree("no token")
                result, counts = self.compile(tree, "--remote-cache", url)
                self.assertEqual(len(remote_warnings(result.stderr)), 1, result.stderr)
                self.assertTrue(counts["remote_disabled"], counts)
                self.assertEqual(counts["cache_misses"], counts["written"], counts)
                self.assert_like_reference(tree)
        with NginxServer(basic_auth=("builder", "pa:ss word")) as server:
            url = server.url("pyc")
            auth_file = os.path.join(self.tmp.name, "basic")
            with open(auth_file, "w") as f:
                f.write("builder:pa:ss word\n")
            os.chmod(auth_file, 0o600)
            with self.subTest(basic="file"):
                tree = self.tree("basic file")
                result, counts = self.compile(tree, "--remote-cache", url, "--remote-cache-basic-auth-file", auth_file)
                self.assertEqual(remote_warnings(result.stderr), [])
                self.assertEqual(counts["remote_stores"], counts["written"], counts)
            with self.subTest(basic="environment"):
                tree = self.tree("basic env")
                result, counts = self.compile(tree, "--remote-cache", url,
                                              env={"PYCEMIT_REMOTE_CACHE_BASIC_AUTH": "builder:pa:ss word"})
                self.assert_all_hit(counts, tree, local=False)
                self.assert_like_reference(tree)
            with self.subTest(basic="wrong password"):
                tree = self.tree("basic wrong")
                result, counts = self.compile(tree, "--remote-cache", url,
                                              env={"PYCEMIT_REMOTE_CACHE_BASIC_AUTH": "builder:nope"})
                self.assertEqual(len(remote_warnings(result.stderr)), 1, result.stderr)
                self.assert_like_reference(tree)
            with self.subTest(basic="in the URL"):
                tree = self.tree("basic url")
                result, counts = self.compile(tree, "--remote-cache", url.replace("http://", "http://builder:pass@"),
                                              expect=2)
                self.assertEqual(lib.outputs_in(tree), [])
                self.assertNotIn("pass@", result.stderr, "the password is not echoed")
                result, counts = self.compile(tree, env={"PYCEMIT_REMOTE_CACHE": url.replace("http://", "http://u:p@")},
                                              expect=2)
                self.assertEqual(lib.outputs_in(tree), [])

    def test_every_remote_failure_warns_once_stops_asking_and_compiles_locally(self):
        levels = ["-O", "0", "-O", "1", "-O", "2"]
        with FaultServer("ok") as control:
            tree = self.tree("control")
            result, counts = self.compile(tree, "--remote-cache", control.url("pyc"), levels=levels)
            self.assertEqual(remote_warnings(result.stderr), [], "the fault server works as a cache")
            self.assertFalse(counts["remote_disabled"], counts)
            self.assertEqual(counts["remote_stores"], counts["written"], counts)
            self.assert_like_reference(tree, levels=levels)
            # ... whose answers are used
            tree = self.tree("control again")
            result, counts = self.compile(tree, "--remote-cache", control.url("pyc"), levels=levels)
            self.assert_all_hit(counts, tree, local=False)
            stored_bodies = dict(control.store)
        for fault in ("slow", "500", "reset", "truncated", "wrong-bytes", "wrong-entry", "put-500", "refused"):
            with self.subTest(fault=fault):
                tree = self.tree(fault)
                local = self.cache_dir(fault)
                if fault == "refused":
                    server = None
                    url = "http://127.0.0.1:%d/pyc" % free_port()
                else:
                    server = FaultServer("wrong-bytes" if fault == "wrong-entry" else fault, delay=30,
                                         body=sorted(stored_bodies.values())[0])
                    if fault == "wrong-bytes":
                        server.body = b"\xe3 not a code object" * 20
                    server.start()
                    url = server.url("pyc")
                try:
                    started = time.monotonic()
                    result, counts = self.compile(tree, "--cache", local, "--remote-cache", url,
                                                  "--remote-cache-timeout", "1", "--remote-cache-connect-timeout", "1",
                                                  levels=levels, timeout=120)
                    elapsed = time.monotonic() - started
                finally:
                    if server:
                        server.stop()
                outputs = len(lib.outputs_in(tree))
                warnings = remote_warnings(result.stderr)
                self.assertEqual(len(warnings), 1, result.stderr)
                print("%s: %s (%.1f s, %s GET, %s PUT, %d outputs)" % (fault, warnings[0], elapsed,
                      server.count("GET") if server else "-", server.count("PUT") if server else "-", outputs),
                      file=sys.stderr)
                self.assertTrue(counts["remote_disabled"], counts)
                # "wrong-entry" answers every key with one real entry (an empty module's, which is
                # the same at every level): right for at most one key per level.
                self.assertLessEqual(counts.get("remote_hits", 0), 3 if fault == "wrong-entry" else 0, counts)
                self.assertEqual(counts["cache_misses"] + counts.get("remote_hits", 0), outputs, counts)
                self.assertEqual(counts.get("remote_stores", 0), 0, counts)
                self.assert_like_reference(tree, levels=levels)
                if server and fault == "put-500":
                    # Every GET is a miss (legitimate); the PUTs stop after the first failure.
                    self.assertLessEqual(server.count("GET"), outputs)
                    self.assertGreater(server.count("PUT"), 0)
                    self.assertLessEqual(server.count("PUT"), 40, "the run stopped storing after the failure")
                elif server:
                    self.assertGreater(server.count(), 0)
                    self.assertLessEqual(server.count(), 40, "the run stopped asking after the failure")
                    self.assertLess(server.count(), outputs // 4)
                if fault == "slow":
                    self.assertLess(elapsed, 15, "a slow remote costs about its timeout, not more")
                if fault not in ("truncated", "wrong-bytes", "wrong-entry"):
                    continue
                # Nothing the remote answered reached the local cache: it all hits and passes the check.
                again = self.tree(fault + " again")
                result, counts = self.compile(again, "--cache", local, levels=levels)
                self.assert_all_hit(counts, again)
                self.assertEqual(counts["cache_dropped"], 0, counts)
                self.assert_like_reference(again, levels=levels)


if __name__ == "__main__":
    unittest.main()
