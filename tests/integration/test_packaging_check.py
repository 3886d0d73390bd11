"""Packaging: `pycemit check` and `pycemit prune` on
trees with stale, missing, orphaned and non-canonical pycs, in the __pycache__
layout and in a run-time pycache prefix tree under a staging root."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import packaging_testlib as plib  # noqa: E402
import pycemit_testlib as lib  # noqa: E402


def snapshot(tree):
    """{path: bytes} of every file below `tree`."""
    state = {}
    for path in plib.all_files(tree):
        with open(path, "rb") as f:
            state[path] = f.read()
    return state


def py_compile(python, source, dfile, optimize):
    """A pyc written by the interpreter's own py_compile, checked-hash, with the
    embedded path pycemit would use: right header, but not canonical marshal."""
    code = ("import py_compile, sys; py_compile.compile(sys.argv[1], dfile=sys.argv[2], doraise=True, optimize=%d, "
            "invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)" % optimize)
    subprocess.run([python, "-S", "-c", code, source, dfile], check=True)


class CheckTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit check ")
        self.addCleanup(self.tmp.cleanup)

    def make_damaged_tree(self, python, other_python):
        """A compiled tree, then: a stale source, a missing pyc, orphaned pycs
        (a deleted module and a deleted subpackage), pycs rewritten by py_compile,
        a sourceless legacy pyc, and another interpreter's pycs.
        Returns (tree, {kind: set of paths} expected from `check`)."""
        tree = os.path.join(self.tmp.name, "tree %s" % plib.python_tag(python))
        files = dict(plib.PACKAGE)
        files.update({"gone.py": "G = 1\n", "oldsub/__init__.py": "", "oldsub/m.py": "M = 1\n",
                      "legacy.py": "L = 1\n"})
        plib.write_files(tree, files)
        lib.run(plib.compile_args(python, "--source-root", tree, "-O", "0", "-O", "1", tree), check=True)
        lib.run(plib.compile_args(other_python, "--source-root", tree, tree), check=True)
        lib.run(plib.compile_args(python, "--source-root", tree, "--layout", "sourceless",
                                  os.path.join(tree, "legacy.py")), check=True)
        src = lambda rel: os.path.join(tree, rel)  # noqa: E731
        pyc = lambda rel, level, py=python: lib.expected_paths(py, [src(rel)], [level])[src(rel)][level]  # noqa: E731
        expected = {"stale": set(), "missing": set(), "orphaned": set(), "not-canonical": set()}

        with open(src("plain.py"), "a") as f:  # stale, both levels
            f.write("EDITED = True\n")
        expected["stale"] |= {pyc("plain.py", 0), pyc("plain.py", 1)}
        os.unlink(pyc("checks.py", 1))  # missing
        expected["missing"].add(pyc("checks.py", 1))
        for level in (0, 1):  # not canonical
            py_compile(python, src("docs.py"), "docs.py", level)
            expected["not-canonical"].add(pyc("docs.py", level))
        # Orphaned: every pyc of a deleted source, whatever its interpreter. legacy.py's
        # sourceless legacy.pyc is not one: having no source is its purpose.
        for rel in ("gone.py", "oldsub/__init__.py", "oldsub/m.py", "legacy.py"):
            expected["orphaned"] |= {pyc(rel, 0), pyc(rel, 1), pyc(rel, 0, other_python)}
            os.unlink(src(rel))
        return tree, expected

    def check(self, python, tree, *args):
        return lib.run(["check", "--python", python, "--source-root", tree] + list(args) + [tree])

    def test_check_lists_stale_missing_orphaned_and_not_canonical(self):
        pythons = plib.spread(lib.target_pythons(), 2)
        for python, other in ((pythons[0], pythons[-1]), (pythons[-1], pythons[0])):
            with self.subTest(python=python):
                tree, expected = self.make_damaged_tree(python, other)
                before = snapshot(tree)
                result = self.check(python, tree, "-O", "0", "-O", "1")
                self.assertEqual(result.returncode, 1, result.stderr)
                found = plib.check_findings(result.stdout)
                want = sorted((kind, path) for kind, paths in expected.items() for path in paths)
                self.assertEqual(found, want)
                self.assertIn("problems", result.stderr)
                self.assertEqual(snapshot(tree), before, "check writes nothing")
                self.assertTrue(os.path.exists(os.path.join(tree, "legacy.pyc")))

                # "Up to date for the given interpreter, mode and levels":
                result = self.check(python, tree, "-O", "0", "-O", "1", "--invalidation-mode", "unchecked-hash")
                kinds = {k for k, _ in plib.check_findings(result.stdout)}
                self.assertEqual(kinds, {"stale", "missing", "orphaned"},
                                 "a checked-hash pyc is stale for unchecked-hash")
                result = self.check(python, tree, "-O", "2")
                self.assertEqual(len([k for k, _ in plib.check_findings(result.stdout) if k == "missing"]), 6)

    def test_compile_then_check_is_clean(self):
        """The packaging step repairs everything check reports except orphans,
        which prune removes: then check exits 0. This includes pycs with the
        right header and embedded path but non-canonical marshal data (e.g. left
        by a build system's compileall under SOURCE_DATE_EPOCH): compile must
        not keep them as "up to date", or the package is not reproducible."""
        python, other = plib.spread(lib.target_pythons(), 2)
        tree, expected = self.make_damaged_tree(python, other)
        result = lib.run(plib.compile_args(python, "-v", "--source-root", tree, "-O", "0", "-O", "1", tree),
                         check=True)
        lib.run(["prune", "--source-root", tree, tree], check=True)
        result = self.check(python, tree, "-O", "0", "-O", "1")
        self.assertEqual((result.returncode, result.stdout), (0, ""),
                         "compile left these pycs as they were:\n" + result.stdout)

    def test_check_under_a_staging_root_with_a_prefix_tree(self):
        python = lib.target_pythons()[-1]
        layout = plib.Layout(os.path.join(self.tmp.name, "prefix"), python)
        staged_pkg = layout.stage_package()
        common = ["--python", python, "--root", layout.stage, "--layout", "prefix", "--pycache-prefix", layout.prefix,
                  "-O", "0", "-O", "1"]
        missing = lib.run(["check"] + common + [staged_pkg])
        self.assertEqual(missing.returncode, 1)
        self.assertEqual({k for k, _ in plib.check_findings(missing.stdout)}, {"missing"})
        self.assertEqual(len(missing.stdout.splitlines()), 12)
        lib.run(["compile", "-j", "2"] + common + [staged_pkg], check=True)
        clean = lib.run(["check"] + common + [staged_pkg])
        self.assertEqual((clean.returncode, clean.stdout), (0, ""), clean.stderr)
        with open(os.path.join(staged_pkg, "docs.py"), "a") as f:
            f.write("X = 1\n")
        os.unlink(os.path.join(staged_pkg, "plain.py"))
        found = plib.check_findings(lib.run(["check"] + common + [staged_pkg]).stdout)
        expected = lib.expected_paths(python, [layout.package + "/docs.py", layout.package + "/plain.py"], [0, 1],
                                      prefix=layout.prefix)
        self.assertEqual(found, sorted([("stale", layout.staged(expected[layout.package + "/docs.py"][lvl]))
                                        for lvl in (0, 1)] +
                                       [("orphaned", layout.staged(expected[layout.package + "/plain.py"][lvl]))
                                        for lvl in (0, 1)]))


class PruneTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit prune ")
        self.addCleanup(self.tmp.cleanup)

    def test_pycache_layout(self):
        pythons = plib.spread(lib.target_pythons(), 2)
        python = pythons[-1]
        tree = os.path.join(self.tmp.name, "site dir")
        files = dict(plib.PACKAGE)
        files.update({"gone.py": "G = 1\n", "oldsub/m.py": "M = 1\n", "legacy.py": "L = 1\n"})
        plib.write_files(tree, files)
        for py in pythons:
            lib.run(plib.compile_args(py, "--source-root", tree, "-O", "0", "-O", "1", tree), check=True)
        lib.run(plib.compile_args(python, "--source-root", tree, "--layout", "sourceless",
                                  os.path.join(tree, "legacy.py")), check=True)
        legacy = os.path.join(tree, "legacy.pyc")
        orphans = set()
        for rel in ("gone.py", "oldsub/m.py", "legacy.py"):
            source = os.path.join(tree, rel)
            for py in pythons:
                orphans |= set(lib.expected_paths(py, [source], [0, 1])[source].values())
            os.unlink(source)
        self.assertEqual(len(orphans), 12)

        before = snapshot(tree)
        dry = lib.run(["prune", "--dry-run", tree], check=True)
        self.assertEqual(sorted(os.path.abspath(p) for p in dry.stdout.splitlines()), sorted(orphans))
        self.assertEqual(snapshot(tree), before, "--dry-run removes nothing")

        result = lib.run(["prune", tree], check=True)
        self.assertEqual(sorted(os.path.abspath(line[len("removed "):]) for line in result.stdout.splitlines()),
                         sorted(orphans))
        after = snapshot(tree)
        self.assertEqual(set(before) - set(after), orphans, "exactly the orphans are removed")
        self.assertFalse(os.path.exists(os.path.join(tree, "oldsub", "__pycache__")), "an emptied __pycache__ goes")
        self.assertTrue(os.path.isdir(os.path.join(tree, "__pycache__")), "one still in use stays")
        self.assertTrue(os.path.isfile(legacy), "sourceless pycs are kept unless asked")
        self.assertEqual(lib.run(["prune", "--dry-run", tree], check=True).stdout, "")

        # The rest still imports from its pycs.
        expected = lib.expected_paths(python, [os.path.join(tree, "plain.py")], [0])
        _, loaded, stale = lib.imported_from(python, tree, ["plain", "legacy"])
        self.assertIn(expected[os.path.join(tree, "plain.py")][0], loaded)
        self.assertIn(legacy, loaded)
        self.assertEqual(stale, [])

        listed = lib.run(["prune", "--dry-run", "--sourceless", tree], check=True)
        self.assertEqual(listed.stdout.splitlines(), [legacy])
        lib.run(["prune", "--sourceless", tree], check=True)
        self.assertFalse(os.path.exists(legacy))
        self.assertEqual(set(snapshot(tree)), set(after) - {legacy})

    def test_prefix_tree_under_a_staging_root_and_installed(self):
        python = lib.target_pythons()[-1]
        layout = plib.Layout(os.path.join(self.tmp.name, "prefix"), python)
        staged_pkg = layout.stage_package()
        # A sibling package in the same site directory, with an orphan of its own.
        sibling = layout.staged(os.path.join(layout.site, "sibling"))
        plib.write_files(sibling, {"__init__.py": "", "old.py": "O = 1\n"})
        common = ["--root", layout.stage, "--layout", "prefix", "--pycache-prefix", layout.prefix]
        for path in (staged_pkg, sibling):
            lib.run(plib.compile_args(python, *common, "-O", "0", "-O", "1", path), check=True)
        os.unlink(os.path.join(sibling, "old.py"))

        removed_sources = [os.path.join(layout.package, "docs.py"), os.path.join(layout.package, "sub", "__init__.py"),
                           os.path.join(layout.package, "sub", "deep_module.py")]
        expected = lib.expected_paths(python, removed_sources, [0, 1], prefix=layout.prefix)
        orphans = sorted(layout.staged(p) for s in removed_sources for p in expected[s].values())
        os.unlink(layout.staged(removed_sources[0]))
        shutil.rmtree(layout.staged(os.path.join(layout.package, "sub")))  # a whole subpackage goes

        before = snapshot(layout.stage)
        dry = lib.run(["prune", "-n"] + common + [staged_pkg], check=True)
        self.assertEqual(sorted(dry.stdout.splitlines()), orphans)
        self.assertEqual(snapshot(layout.stage), before)
        check = lib.run(["check", "--python", python, "-O", "0", "-O", "1"] + common + [staged_pkg])
        self.assertEqual(plib.check_findings(check.stdout), [("orphaned", p) for p in orphans])

        lib.run(["prune", "-q"] + common + [staged_pkg], check=True)
        after = snapshot(layout.stage)
        self.assertEqual(sorted(set(before) - set(after)), orphans)
        sibling_orphans = lib.expected_paths(python, [os.path.join(layout.site, "sibling", "old.py")], [0, 1],
                                             prefix=layout.prefix)
        for pyc in sibling_orphans[os.path.join(layout.site, "sibling", "old.py")].values():
            self.assertTrue(os.path.isfile(layout.staged(pyc)), "another package's pycs are not touched")

        # After installation, at the run-time paths (--root /: paths are run-time paths).
        layout.install()
        installed = lib.run(["prune", "--root", "/", "--layout", "prefix", "--pycache-prefix", layout.prefix,
                             os.path.join(layout.site, "sibling")], check=True)
        self.assertEqual(sorted(line[len("removed "):] for line in installed.stdout.splitlines()),
                         sorted(sibling_orphans[os.path.join(layout.site, "sibling", "old.py")].values()))
        check = lib.run(["check", "--python", python, "--root", "/", "--layout", "prefix", "--pycache-prefix",
                         layout.prefix, "-O", "0", "-O", "1", layout.site])
        self.assertEqual((check.returncode, check.stdout), (0, ""), check.stderr)

    def test_prune_an_installed_prefix_tree_from_any_directory(self):
        """An administrator's `pycemit prune --layout prefix --pycache-prefix
        /var/cache/pyc /usr/lib/python3/site-packages` (Debian's py3clean's job):
        where the source directory sits relative to the working directory has no
        bearing on where its prefix tree is, so it must work from any directory."""
        python = lib.target_pythons()[-1]
        site = os.path.join(self.tmp.name, "installed", "site-packages")
        prefix = os.path.join(self.tmp.name, "installed", "pyc cache")
        plib.write_files(site, {"pkg/__init__.py": "", "pkg/old.py": "O = 1\n"})
        lib.run(plib.compile_args(python, "--root", "/", "--layout", "prefix", "--pycache-prefix", prefix, site),
                check=True)
        old = os.path.join(site, "pkg", "old.py")
        orphan = lib.expected_paths(python, [old], [0], prefix=prefix)[old][0]
        os.unlink(old)
        elsewhere = os.path.join(self.tmp.name, "some other directory")
        os.makedirs(elsewhere)
        for args in (["--dry-run"], []):
            result = lib.run(["prune", "--layout", "prefix", "--pycache-prefix", prefix] + args + [site], cwd=elsewhere)
            self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse(os.path.exists(orphan))

if __name__ == "__main__":
    unittest.main()
