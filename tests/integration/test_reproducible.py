"""Byte-for-byte reproducibility, for every installed CPython >= 3.8, on its standard library.

Every comparison is of the SHA-256 of every output, keyed by the path relative to
the tree:
  - the tree at two different absolute paths;
  - --jobs 1 and --jobs 2;
  - different PYTHONHASHSEED values in the caller's environment ("random", 4242);
  - each file compiled alone in its own run and all files in one run (a sample);
  - the files given in a different order (a reversed @list);
  - CPython's own py_compile output, written by one long-running process (so
    its FLAG_REF bits follow process history), canonicalised by
    `pycemit canonicalize`, equals pycemit's bytes, and `canonicalize --check`
    reports CPython's raw output as not canonical.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pycemit_testlib as lib  # noqa: E402

ALONE_SAMPLE = 40  # files compiled one per run (each run starts a fresh interpreter)

# Run inside the target interpreter: py_compile every listed source in this one
# process, checked-hash, with the embedded path pycemit uses (relative path).
PY_COMPILE_ALL = r"""
import py_compile, sys, os
tree, out = sys.argv[1], sys.argv[2]
for line in sys.stdin.read().splitlines():
    rel = os.path.relpath(line, tree)
    try:
        py_compile.compile(line, cfile=os.path.join(out, rel + "c"), dfile=rel, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    except py_compile.PyCompileError:
        pass
"""


class ReproducibleTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit repro ")
        self.addCleanup(self.tmp.cleanup)

    def compile_tree(self, python, tree, *extra, env=None, paths=None):
        args = ["compile", "-q", "--python", python, "-O", "0", "-O", "1", "--source-root", tree] + list(extra)
        lib.run(args + (paths or [tree]), env=env, check=True)
        return lib.tree_digest(tree)

    def clean(self, tree):
        for d, dirs, _ in os.walk(tree):
            if "__pycache__" in dirs:
                shutil.rmtree(os.path.join(d, "__pycache__"))
                dirs.remove("__pycache__")

    def test_matrix(self):
        for python in lib.target_pythons():
            with self.subTest(python=python):
                self.check(python)

    def check(self, python):
        base = os.path.join(self.tmp.name, os.path.basename(os.path.dirname(os.path.dirname(python))))
        tree_a = lib.copy_stdlib(python, os.path.join(base, "checkout one", "Lib"))
        tree_b = lib.copy_stdlib(python, os.path.join(base, "another place", "deeper", "Lib"))
        reference = self.compile_tree(python, tree_a, "--jobs", "2")
        self.assertGreater(len(reference), 600)

        self.assertEqual(self.compile_tree(python, tree_b, "--jobs", "2"), reference, "checkout path, --jobs 2")

        self.clean(tree_b)
        self.assertEqual(self.compile_tree(python, tree_b, "--jobs", "1"), reference, "--jobs 1")

        # (PYTHONHASHSEED=0 is what pycemit gives its interpreters: it would prove nothing.)
        for seed in ("random", "4242"):
            self.clean(tree_b)
            digest = self.compile_tree(python, tree_b, env={"PYTHONHASHSEED": seed})
            self.assertEqual(digest, reference, "caller PYTHONHASHSEED=" + seed)

        # Reversed order, through an @list.
        self.clean(tree_b)
        listing = os.path.join(base, "reversed list")
        with open(listing, "w") as f:
            f.write("\n".join(reversed(lib.sources_in(tree_b))) + "\n")
        self.assertEqual(self.compile_tree(python, tree_b, paths=["@" + listing]), reference, "file order")

        # Each of a sample of files alone, in its own run, versus all in one run.
        self.clean(tree_b)
        sources = lib.sources_in(tree_b)
        step = max(1, len(sources) // ALONE_SAMPLE)
        for source in sources[::step]:
            self.compile_tree(python, tree_b, paths=[source])
        alone = lib.tree_digest(tree_b)
        self.assertGreaterEqual(len(alone), 2 * (len(sources[::step]) - 1))
        for rel, digest in alone.items():
            self.assertEqual(digest, reference[rel], "%s compiled alone" % rel)

        self.check_py_compile_canonicalizes(python, tree_a, base, reference)

    def check_py_compile_canonicalizes(self, python, tree, base, reference):
        out = os.path.join(base, "py_compile out")
        sources = lib.sources_in(tree)
        subprocess.run([python, "-c", PY_COMPILE_ALL, tree, out], input="\n".join(sources), text=True,
                       check=True, capture_output=True)
        pycs = lib.outputs_in(out)
        self.assertGreater(len(pycs), 500)  # Debian's 3.14 and 3.15 ship 556 and 595 sources without tests
        raw = lib.run(["canonicalize", "--check"] + pycs)
        self.assertEqual(raw.returncode, 1, "CPython's own output should not all be canonical")
        self.assertGreater(len(raw.stdout.splitlines()), 0)
        lib.run(["canonicalize", "-q"] + pycs, check=True)
        self.assertEqual(lib.run(["canonicalize", "--check"] + pycs).returncode, 0)

        expected = lib.expected_paths(python, sources, [0])
        compared = 0
        for source in sources:
            rel = os.path.relpath(source, tree)
            ours = os.path.relpath(expected[source][0], tree)
            theirs = os.path.join(out, rel + "c")
            if not os.path.exists(theirs):
                continue
            with open(theirs, "rb") as f:
                self.assertEqual(lib.hashlib.sha256(f.read()).hexdigest(), reference[ours],
                                 "canonicalised py_compile output of %s" % rel)
            compared += 1
        self.assertEqual(compared, len(pycs))


if __name__ == "__main__":
    unittest.main()
