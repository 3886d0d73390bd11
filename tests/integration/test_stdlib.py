"""pycemit compiles a real standard library correctly, for every installed CPython >= 3.8.

For each interpreter: a copy of its standard library (under a path with spaces)
is compiled in every layout (pycache, prefix, sourceless) and every invalidation
mode; every pyc must be where that interpreter's own cache_from_source says,
pass verify_pycs.py inside that interpreter (header, hash or stamp, code object
equal to its own compile()), and be used on import (-v shows the pyc,
--check-hash-based-pycs always, -B so nothing is rewritten).
"""
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pycemit_testlib as lib  # noqa: E402

MODES = ["checked-hash", "unchecked-hash", "timestamp"]


def expectations_for(paths_by_source, mode, embedded_of, verified=None):
    """verify_pycs.py expectations. With `verified` (a {source: {level: pyc}} already
    verified in full), bodies are compared with those instead of recompiled."""
    return [{"source": s, "pyc": p, "optimize": level, "mode": mode, "embedded": embedded_of(s),
             "same_body_as": verified[s][level] + ".verified" if verified else None}
            for s, by_level in paths_by_source.items() for level, p in by_level.items()]


def keep_copies(paths_by_source):
    """Copies each pyc to <pyc>.verified, the reference for later modes."""
    for by_level in paths_by_source.values():
        for pyc in by_level.values():
            with open(pyc, "rb") as src, open(pyc + ".verified", "wb") as dst:
                dst.write(src.read())


class StdlibTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit stdlib ")
        self.addCleanup(self.tmp.cleanup)

    def assert_used(self, python, path_entry, level=0, prefix=None, sourceless=False):
        """Imports the sample modules from `path_entry` and checks each one's code
        came from the pyc importlib names for it (for a sourceless tree, __file__
        is the pyc itself)."""
        flags = (["-O"] * level) + (["-X", "pycache_prefix=" + prefix] if prefix else [])
        files, loaded, stale = lib.imported_from(python, path_entry, lib.SAMPLE_MODULES, flags)
        self.assertEqual(stale, [], "the interpreter rejected pycs")
        if sourceless:
            expected = files
        else:
            paths = lib.expected_paths(python, sorted(files.values()), [level], prefix)
            expected = {m: paths[f][level] for m, f in files.items()}
        for module, pyc in expected.items():
            self.assertTrue(pyc.startswith(prefix or path_entry), pyc)
            self.assertIn(pyc, loaded, "%s was not loaded from %s" % (module, pyc))

    def compile(self, args, tree):
        result = lib.run(["compile", "-q"] + args + ["--source-root", tree, tree], check=True)
        self.assertEqual(result.stderr, "")

    def test_every_layout_and_mode(self):
        for python in lib.target_pythons():
            with self.subTest(python=python):
                self.check_interpreter(python)

    def check_interpreter(self, python):
        base = os.path.join(self.tmp.name, os.path.basename(os.path.dirname(os.path.dirname(python))))
        tree = lib.copy_stdlib(python, os.path.join(base, "Lib copy"))
        sources = lib.sources_in(tree)
        self.assertGreater(len(sources), 300)
        relative = lambda s: os.path.relpath(s, tree)  # noqa: E731  the default embedded path

        # __pycache__ layout: levels 0, 1, 2 in every mode.
        expected = lib.expected_paths(python, sources, [0, 1, 2])
        for i, mode in enumerate(MODES):
            self.compile(["--python", python, "--invalidation-mode", mode, "-O", "0", "-O", "1", "-O", "2"], tree)
            lib.verify(python, expectations_for(expected, mode, relative, expected if i else None))
            if i == 0:
                keep_copies(expected)
            self.assert_used(python, tree, level=0)
            self.assert_used(python, tree, level=1)
            self.assert_used(python, tree, level=2)
        self.assertEqual(len(lib.outputs_in(tree)), 3 * len(sources))
        verified = expected

        # Pycache prefix layout: the tree the interpreter reads with -X pycache_prefix.
        prefix = os.path.join(base, "pycache prefix")
        expected = lib.expected_paths(python, sources, [0, 1], prefix=prefix)
        for mode in MODES:
            self.compile(["--python", python, "--invalidation-mode", mode, "-O", "0", "-O", "1",
                          "--layout", "prefix", "--pycache-prefix", prefix], tree)
            lib.verify(python, expectations_for(expected, mode, relative, verified))
            self.assert_used(python, tree, level=0, prefix=prefix)
            self.assert_used(python, tree, level=1, prefix=prefix)
        self.assertEqual(len(lib.outputs_in(prefix)), 2 * len(sources))

        # Sourceless: a tree of pycs only, imported without any source.
        for mode in MODES:
            out = os.path.join(base, "sourceless " + mode)
            self.compile(["--python", python, "--invalidation-mode", mode, "--layout", "sourceless",
                          "--output-root", out], tree)
            sourceless = {s: {0: os.path.join(out, relative(s))[:-3] + ".pyc"} for s in sources}
            lib.verify(python, expectations_for(sourceless, mode, relative, verified))
            self.assertEqual(lib.outputs_in(out, ".py"), [], "no source may be in the sourceless tree")
            self.assert_used(python, out, sourceless=True)
        self.check_test_directories(python, base)

    def check_test_directories(self, python, base):
        """The full library, tests and deliberately broken files included: pycemit
        fails exactly on the files the interpreter itself cannot compile, names
        each as path:line[:col], and writes every other pyc."""
        tree = lib.copy_stdlib(python, os.path.join(base, "Lib with tests"), include_tests=True)
        result = lib.run(["compile", "-q", "--python", python, "--source-root", tree, tree])
        reported = sorted({os.path.relpath(line.split(":")[0], tree)
                           for line in result.stderr.splitlines() if "Error" in line})
        probe = ("import sys, os\n"
                 "bad = []\n"
                 "for path in sys.argv[1:]:\n"
                 "    try:\n"
                 "        compile(open(path, 'rb').read(), path, 'exec', dont_inherit=True)\n"
                 "    except (SyntaxError, ValueError):\n"
                 "        bad.append(os.path.relpath(path, %r))\n"
                 "print('\\n'.join(sorted(bad)))\n" % tree)
        sources = lib.sources_in(tree)
        out = subprocess.run([python, "-S", "-B", "-c", probe] + sources, capture_output=True, text=True, check=True)
        broken = sorted(out.stdout.split())
        self.assertEqual(result.returncode, 1 if broken else 0, result.stderr[-2000:])
        self.assertEqual(reported, broken)
        expected = lib.expected_paths(python, sources, [0])
        present = {s for s, by_level in expected.items() if os.path.exists(by_level[0])}
        self.assertEqual(len(present), len(sources) - len(broken))


if __name__ == "__main__":
    unittest.main()
