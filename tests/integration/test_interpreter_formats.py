"""Interpreters whose pyc format pycemit does not know: trust the interpreter, probe, verify.

- Every target interpreter treated as unknown ($PYCEMIT_TREAT_AS_UNKNOWN, the
  seam that makes a known release take the path of a pre-release or a newer
  version): its format passes the probe, pycemit warns once, naming the version,
  and writes byte for byte what the known path writes.
- A CPython 3.15 pre-release, simulated by the real 3.15 with another magic
  number in 3.15's range (importlib's MAGIC_NUMBER, the import system's and the
  source hash's key all patched, as a beta's are): pycemit warns and writes pycs
  with that magic number, which that interpreter uses on import, with the
  released 3.15's code bytes.
- A magic number outside its version's range (a patched interpreter) is refused.
- A format that fails the probe is refused, naming what differed.
- A CPython built without a cache tag (sys.implementation.cache_tag None, a 3.15
  build option): __pycache__ and prefix layouts are refused with the reason,
  sourceless pycs are written and imported.

The fake interpreters are scripts that exec the real one with a prelude in
front of the program pycemit passes with -c (and in front of every -c program
the test itself runs with them), so the interpreter really behaves that way.
"""
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pycemit_testlib as lib  # noqa: E402

SAMPLE_PACKAGES = ["json", "email", "collections", "importlib", "xml", "http", "asyncio"]

# Makes the interpreter report and use magic number %(magic)d everywhere:
# importlib.util, the import system (the frozen _bootstrap_external) and the
# key of the source hash (_RAW_MAGIC_NUMBER up to 3.14, _imp's token from 3.15).
PRE_RELEASE_PRELUDE = r"""
import _imp, importlib.util as _u, importlib._bootstrap_external as _be
_be.MAGIC_NUMBER = (%(magic)d).to_bytes(2, "little") + b"\r\n"
_be._RAW_MAGIC_NUMBER = int.from_bytes(_be.MAGIC_NUMBER, "little")
_imp.pyc_magic_number_token = _be._RAW_MAGIC_NUMBER
_u.MAGIC_NUMBER = _be.MAGIC_NUMBER
del _imp, _u, _be
"""

NO_CACHE_TAG_PRELUDE = r"""
import sys as _s
_s.implementation.cache_tag = None
del _s
"""

# Every marshal.dumps result gets a trailing byte: a format pycemit cannot read.
TRAILING_BYTE_PRELUDE = r"""
import marshal as _m
_real_dumps = _m.dumps
_m.dumps = lambda value, *rest: _real_dumps(value, *rest) + b"N"
del _m
"""

WRAPPER = r"""#!/bin/sh
# A fake interpreter for pycemit's tests: the real one with a prelude before -c programs.
prelude='%(prelude)s'
for arg do
  shift
  if [ "$previous" = "-c" ]; then arg="$prelude$arg"; fi
  set -- "$@" "$arg"
  previous=$arg
done
exec %(real)s "$@"
"""


def fake_python(directory, name, real, prelude):
    path = os.path.join(directory, "python-" + name)
    assert "'" not in prelude
    with open(path, "w") as f:
        f.write(WRAPPER % {"prelude": prelude, "real": real})
    os.chmod(path, 0o755)
    return path


def find_target(implementation, minor):
    for path, impl, version in lib.interpreters.targets():
        if impl == implementation and version[1] == minor:
            return path
    return None


class InterpreterFormatsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit formats ")
        self.addCleanup(self.tmp.cleanup)
        self.cache = os.path.join(self.tmp.name, "cache")

    def sample_tree(self, python, name):
        """A copy of a few packages of `python`'s standard library."""
        stdlib = lib.stdlib_dir(python)
        tree = os.path.join(self.tmp.name, name)
        os.makedirs(tree)
        for package in SAMPLE_PACKAGES:
            lib.shutil.copytree(os.path.join(stdlib, package), os.path.join(tree, package),
                                ignore=lambda d, names: [n for n in names if n in lib.TEST_DIRS or n.endswith(".pyc")])
        return tree

    def compile(self, python, tree, *args, env=None):
        full_env = {"PYCEMIT_CACHE_DIR": self.cache}
        full_env.update(env or {})
        return lib.run(["compile", "--python", python, "-O", "0", "-O", "1", "--source-root", tree] + list(args) +
                       [tree], env=full_env)

    def assert_used(self, python, tree, modules, level=0, sourceless=False, foreign=False):
        """Each of `modules` imported from `tree` came from its pyc. With
        `foreign` (an interpreter that is not the one whose standard library is
        installed) the installed library's own pycs are rejected, so -v's
        "bad magic number" lines are not ours to check: every module of the
        tree must still have come from its pyc."""
        flags = ["-O"] * level
        files, loaded, stale = lib.imported_from(python, tree, modules, flags)
        if not foreign:
            self.assertEqual(stale, [], "the interpreter rejected pycs")
        if sourceless:
            expected = files
        else:
            paths = lib.expected_paths(python, sorted(files.values()), [level])
            expected = {m: paths[f][level] for m, f in files.items()}
        for module, pyc in expected.items():
            self.assertIn(pyc, loaded, "%s was not loaded from %s" % (module, pyc))

    def test_every_target_treated_as_unknown_writes_the_known_bytes(self):
        targets = lib.interpreters.targets()
        print("targets:", ", ".join("%s %s" % (impl, ".".join(map(str, v))) for _, impl, v in targets))
        for index, (python, impl, version) in enumerate(targets):
            with self.subTest(python=python):
                name = "%s-%d.%d" % (impl, version[0], version[1])
                known = self.sample_tree(python, "%d %s known" % (index, name))
                result = self.compile(python, known)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertNotIn("warning", result.stderr)
                unknown = self.sample_tree(python, "%d %s unknown" % (index, name))
                stats = os.path.join(self.tmp.name, "%d.stats.json" % index)
                result = self.compile(python, unknown, "--stats", stats, env={"PYCEMIT_TREAT_AS_UNKNOWN": name})
                self.assertEqual(result.returncode, 0, result.stderr)
                with open(stats) as f:
                    counts = lib.json.load(f)
                self.assertGreater(counts["written"], 100)
                self.assertEqual(counts["verified"], counts["written"], "every pyc of a probed format is verified")
                warnings = [line for line in result.stderr.splitlines() if "warning" in line]
                self.assertEqual(len(warnings), 1, result.stderr)
                self.assertIn("%d.%d.%d" % version, warnings[0])
                self.assertIn("treated as unknown", warnings[0])
                self.assertIn("passed pycemit's probe", warnings[0])
                digest = lib.tree_digest(known)
                self.assertGreater(len(digest), 100)
                self.assertEqual(lib.tree_digest(unknown), digest)
                self.assert_used(python, unknown, ["json", "email.mime.text", "collections"], level=1)

    def test_a_pre_release_magic_number_is_probed_and_used(self):
        python = find_target("cpython", 15)
        self.assertIsNotNone(python, "CPython 3.15 is needed (../shared/tools/debian-interpreters installs it)")
        beta = fake_python(self.tmp.name, "python3.15b", python, PRE_RELEASE_PRELUDE % {"magic": 3655})
        tree = self.sample_tree(python, "beta")
        result = self.compile(beta, tree)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("magic number 3655, not CPython 3.15's released 3666 (a pre-release?)", result.stderr)
        released = self.sample_tree(python, "released")
        self.assertEqual(self.compile(python, released).returncode, 0)
        ours = lib.outputs_in(tree)
        self.assertGreater(len(ours), 100)
        for pyc in ours:
            with open(pyc, "rb") as f, open(os.path.join(released, os.path.relpath(pyc, tree)), "rb") as g:
                data, reference = f.read(), g.read()
            self.assertEqual(data[:2], (3655).to_bytes(2, "little"), pyc)
            self.assertEqual(data[16:], reference[16:], "the code bytes of the released 3.15: " + pyc)
        self.assert_used(beta, tree, ["json", "email.mime.text"], foreign=True)
        # --no-verify skips the interpreter's check; the bytes are the same.
        again = self.sample_tree(python, "beta unverified")
        stats = os.path.join(self.tmp.name, "beta.stats.json")
        self.assertEqual(self.compile(beta, again, "--no-verify", "--stats", stats).returncode, 0)
        with open(stats) as f:
            self.assertEqual(lib.json.load(f)["verified"], 0)
        self.assertEqual(lib.tree_digest(again), lib.tree_digest(tree))
        info = lib.json.loads(lib.run(["info", "--python", beta], env={"PYCEMIT_CACHE_DIR": self.cache},
                                      check=True).stdout)
        self.assertEqual((info["magic_number"], info["format"]), (3655, "probed"))

    def test_a_magic_number_outside_the_versions_range_is_refused(self):
        python = lib.interpreters.cpythons()[-1]
        patched = fake_python(self.tmp.name, "patched", python, PRE_RELEASE_PRELUDE % {"magic": 3000})
        tree = self.sample_tree(python, "patched")
        result = self.compile(patched, tree)
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertRegex(result.stderr, r"reports magic number 3000, outside the range of CPython 3\.\d+'s magic")
        self.assertEqual(lib.outputs_in(tree), [])

    def test_a_format_that_fails_the_probe_is_refused_naming_the_difference(self):
        python = lib.interpreters.cpythons()[-1]
        minor = lib.python_version(python)[1]
        broken = fake_python(self.tmp.name, "broken", python, TRAILING_BYTE_PRELUDE)
        tree = self.sample_tree(python, "broken")
        result = self.compile(broken, tree, env={"PYCEMIT_TREAT_AS_UNKNOWN": "cpython-3.%d" % minor})
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn("its pyc format failed pycemit's probe: the code object of probe 0 at level 0: "
                      "1 trailing bytes after the object", result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertEqual(lib.outputs_in(tree), [])

    def test_an_interpreter_without_a_cache_tag_gets_sourceless_pycs_only(self):
        python = find_target("cpython", 15)
        self.assertIsNotNone(python, "CPython 3.15 is needed (../shared/tools/debian-interpreters installs it)")
        tagless = fake_python(self.tmp.name, "python3.15-tagless", python, NO_CACHE_TAG_PRELUDE)
        tree = self.sample_tree(python, "tagless")
        info = lib.json.loads(lib.run(["info", "--python", tagless], env={"PYCEMIT_CACHE_DIR": self.cache},
                                      check=True).stdout)
        self.assertIsNone(info["cache_tag"])
        for layout in (["--layout", "pycache"], ["--layout", "prefix", "--pycache-prefix", "/var/cache/pyc"]):
            with self.subTest(layout=layout):
                result = self.compile(tagless, tree, *layout)
                self.assertEqual(result.returncode, 3, result.stderr)
                self.assertIn("built without a cache tag (sys.implementation.cache_tag is None)", result.stderr)
                self.assertIn("use --layout sourceless", result.stderr)
                self.assertEqual(lib.outputs_in(tree), [])
        out = os.path.join(self.tmp.name, "tagless sourceless")
        result = lib.run(["compile", "--python", tagless, "--layout", "sourceless", "--output-root", out,
                          "--source-root", tree, tree], env={"PYCEMIT_CACHE_DIR": self.cache})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertGreater(len(lib.outputs_in(out)), 100)
        self.assert_used(tagless, out, ["json", "email.mime.text"], sourceless=True)
        # The tagless interpreter really ignores __pycache__ (once the prelude
        # has run; what start-up imported came before): it compiles from source.
        self.assertEqual(self.compile(python, tree).returncode, 0)
        files, loaded, _ = lib.imported_from(tagless, tree, ["json"])
        ours = [p for p in loaded if p.startswith(tree)]
        self.assertIn(os.path.join(tree, "json", "decoder.py"), ours)
        self.assertFalse(any("__pycache__" in p for p in ours), ours)


    def test_free_threaded_builds_write_the_default_builds_bytes(self):
        """A free-threaded build (3.13t and later) has the default build's magic
        number and cache tag but marshals depending on timing (immortal,
        interned constants); the canonical bytes must be the default build's."""
        builds = {}
        for python, impl, version in lib.interpreters.targets():
            if impl != "cpython":
                continue
            threaded = lib.json.loads(lib.run(["info", "--python", python], env={"PYCEMIT_CACHE_DIR": self.cache},
                                              check=True).stdout)["free_threaded"]
            builds.setdefault(version[:2], {})[threaded] = python
        pairs = [(v, b[True], b[False]) for v, b in sorted(builds.items()) if True in b and False in b]
        if not pairs:
            self.skipTest("no free-threaded CPython next to a default build of its version is installed "
                          "(Debian packages none)")
        for version, threaded, default in pairs:
            with self.subTest(version=version):
                a = self.sample_tree(default, "default %d.%d" % version)
                b = self.sample_tree(threaded, "free-threaded %d.%d" % version)
                self.assertEqual(self.compile(default, a).returncode, 0)
                self.assertEqual(self.compile(threaded, b, "--jobs", "2").returncode, 0)
                self.assertEqual(lib.tree_digest(b), lib.tree_digest(a))
                self.assert_used(threaded, b, ["json", "email.mime.text"])


if __name__ == "__main__":
    unittest.main()
