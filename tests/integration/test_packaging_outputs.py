"""Packaging: --hardlink-dupes, --manifest,
--record and --on-error, on a package staged under a staging root (paths with
spaces) and checked against the files on disk and the target interpreters."""
import hashlib
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import packaging_testlib as plib  # noqa: E402
import pycemit_testlib as lib  # noqa: E402


def inode(path):
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


class HardlinkTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit hardlinks ")
        self.addCleanup(self.tmp.cleanup)
        self.tree = os.path.join(self.tmp.name, "src tree")

    def compile(self, python, *args):
        return lib.run(plib.compile_args(python, "--source-root", self.tree, "-O", "0", "-O", "1", "-O", "2",
                                         "--hardlink-dupes", *args, self.tree), check=True)

    def levels(self, python, source):
        return lib.expected_paths(python, [source], [0, 1, 2])[source]

    def assert_links(self, pycs, groups):
        """`groups`: lists of levels whose files must be one inode (and no other)."""
        for group in groups:
            first = inode(pycs[group[0]])
            for level in group:
                self.assertEqual(inode(pycs[level]), first, "levels %s must be hardlinked" % group)
                self.assertEqual(os.stat(pycs[level]).st_nlink, len(group), "level %d link count" % level)
        for a in groups:
            for b in groups:
                if a is not b:
                    self.assertNotEqual(inode(pycs[a[0]]), inode(pycs[b[0]]), "%s and %s are separate files" % (a, b))

    def verify(self, python, source, pycs):
        lib.verify(python, [{"source": source, "pyc": pycs[level], "optimize": level, "mode": "checked-hash",
                             "embedded": os.path.relpath(source, self.tree)} for level in (0, 1, 2)])

    def test_identical_levels_are_linked_and_stay_correct_on_recompiles(self):
        for python in plib.spread(lib.target_pythons(), 2):
            with self.subTest(python=python):
                plib.write_files(self.tree, plib.PACKAGE)
                self.compile(python)
                for name, groups in (("plain.py", [[0, 1, 2]]), ("checks.py", [[0], [1, 2]]),
                                     ("docs.py", [[0, 1], [2]]), ("__init__.py", [[0], [1], [2]])):
                    source = os.path.join(self.tree, name)
                    pycs = self.levels(python, source)
                    self.assert_links(pycs, groups)
                    self.verify(python, source, pycs)

                # Edits that split the levels, join them again, and split them differently:
                # every level keeps its own correct bytes, whatever was linked before.
                source = os.path.join(self.tree, "plain.py")
                pycs = self.levels(python, source)
                for text, groups in (
                        ("X = 1\nassert X\n", [[0], [1, 2]]),
                        ('"""Doc."""\nX = 2\n', [[0, 1], [2]]),
                        ("X = 3\n", [[0, 1, 2]]),
                        ('"""Doc."""\nassert True\nX = 4\n', [[0], [1], [2]]),
                        ("X = 5\n", [[0, 1, 2]])):
                    with open(source, "w") as f:
                        f.write(text)
                    self.compile(python)
                    self.assert_links(pycs, groups)
                    self.verify(python, source, pycs)
                    files, loaded, stale = lib.imported_from(python, self.tree, ["plain"], flags=["-OO"])
                    self.assertIn(pycs[2], loaded)
                    self.assertEqual(stale, [])

                # A run without the flag replaces files atomically: linked twins are untouched.
                with open(source, "w") as f:
                    f.write("X = 6\n")
                with open(pycs[1], "rb") as f:
                    old = f.read()
                lib.run(plib.compile_args(python, "--source-root", self.tree, "-O", "0", self.tree), check=True)
                self.assertNotEqual(inode(pycs[0]), inode(pycs[1]))
                self.assert_links(pycs, [[0], [1, 2]])
                lib.verify(python, [{"source": source, "pyc": pycs[0], "optimize": 0, "mode": "checked-hash",
                                     "embedded": os.path.relpath(source, self.tree)}])
                for level in (1, 2):
                    with open(pycs[level], "rb") as f:
                        self.assertEqual(f.read(), old, "a level not compiled is not modified through a link")

    def test_identical_levels_already_compiled_without_the_flag_are_linked(self):
        """A tree compiled without --hardlink-dupes (by a build system's install
        step, say) and then run through the packaging step with it: the pycs are
        current, but identical levels must still end up hardlinked."""
        python = lib.target_pythons()[-1]
        plib.write_files(self.tree, {"plain.py": "X = 1\n"})
        lib.run(plib.compile_args(python, "--source-root", self.tree, "-O", "0", "-O", "1", "-O", "2", self.tree),
                check=True)
        pycs = self.levels(python, os.path.join(self.tree, "plain.py"))
        self.assert_links(pycs, [[0], [1], [2]])
        self.compile(python)
        self.assert_links(pycs, [[0, 1, 2]])


class RecordAndManifestTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit record ")
        self.addCleanup(self.tmp.cleanup)

    def test_record_lists_every_pyc_with_its_hash_and_updates_in_place(self):
        for python in plib.spread(lib.target_pythons(), 2):
            with self.subTest(python=python):
                layout = plib.Layout(os.path.join(self.tmp.name, plib.python_tag(python)), python)
                staged_pkg = layout.stage_package()
                staged_site = layout.staged(layout.site)
                record = os.path.join(layout.staged(layout.dist_info), "RECORD")
                before = plib.read_record(record)
                own = os.path.relpath(record, staged_site)
                self.assertEqual(before[-1], [own, "", ""])

                def compile_both():
                    # The packaging step: __pycache__ pycs, then a run-time prefix tree,
                    # both recorded in the one RECORD.
                    common = ["--root", layout.stage, "-O", "0", "-O", "1", "--hardlink-dupes", "--record", record]
                    lib.run(plib.compile_args(python, *common, staged_pkg), check=True)
                    lib.run(plib.compile_args(python, *common, "--layout", "prefix", "--pycache-prefix",
                                              layout.prefix, staged_pkg), check=True)

                compile_both()
                rows = plib.check_record_hashes(self, record, staged_site)
                self.assertEqual(rows[:len(before) - 1], before[:-1], "existing lines are kept, in order")
                self.assertEqual(rows[-1], [own, "", ""], "RECORD's own line stays last")
                paths = [row[0] for row in rows]
                self.assertEqual(len(paths), len(set(paths)), "no path is listed twice")

                # Exactly the pycs written, named relative to the site directory (the
                # prefix tree with "..", as pip names scripts outside it).
                sources = layout.runtime_sources()
                pycache = lib.expected_paths(python, sources, [0, 1])
                prefixed = lib.expected_paths(python, sources, [0, 1], prefix=layout.prefix)
                expected_pycs = sorted(os.path.relpath(where[s][level], layout.site)
                                       for where in (pycache, prefixed) for s in sources for level in (0, 1))
                self.assertEqual(sorted(p for p in paths if p.endswith(".pyc")), expected_pycs)
                self.assertTrue(any(p.startswith("../../../../var/cache/pyc/") for p in paths), paths)
                self.assertEqual(sorted(lib.outputs_in(layout.stage)),
                                 sorted(os.path.normpath(os.path.join(staged_site, p)) for p in expected_pycs))

                # A second run, and a run after an edit, update the lines in place.
                compile_both()
                self.assertEqual(plib.read_record(record), rows)
                with open(os.path.join(staged_pkg, "plain.py"), "a") as f:
                    f.write("EXTRA = 1\n")
                compile_both()
                # (plain.py's own line is now stale: the install step wrote it before the edit.)
                updated = plib.check_record_hashes(self, record, staged_site, suffix=".pyc")
                self.assertEqual([r[0] for r in updated], paths, "same lines, same order")
                changed = sorted(a[0] for a, b in zip(rows, updated) if a != b)
                self.assertEqual(len(changed), 4, "plain's 2 levels x 2 layouts")
                self.assertTrue(all("plain." in p for p in changed), changed)

                # The installed tree still matches its RECORD's pyc lines.
                layout.install()
                plib.check_record_hashes(self, os.path.join(layout.dist_info, "RECORD"), layout.site, suffix=".pyc")

    def test_record_quotes_paths_that_need_it(self):
        python = lib.target_pythons()[-1]
        site = os.path.join(self.tmp.name, "site dir")
        plib.write_files(site, {"odd, name.py": "X = 1\n", 'quote"d.py': "Y = 2\n"})
        dist_info = os.path.join(site, "odd-1.0.dist-info")
        plib.write_dist_info(site, dist_info)
        record = os.path.join(dist_info, "RECORD")
        lib.run(plib.compile_args(python, "--source-root", site, "--record", record, site), check=True)
        rows = plib.check_record_hashes(self, record, site)
        tag = lib.info(python)["cache_tag"]
        self.assertIn("__pycache__/odd, name.%s.pyc" % tag, [r[0] for r in rows])
        self.assertIn('__pycache__/quote"d.%s.pyc' % tag, [r[0] for r in rows])

    def test_manifest_describes_every_output(self):
        for python in plib.spread(lib.target_pythons(), 2):
            with self.subTest(python=python):
                layout = plib.Layout(os.path.join(self.tmp.name, "manifest " + plib.python_tag(python)), python)
                staged_pkg = layout.stage_package()
                vendored = os.path.join(staged_pkg, "_vendor", "legacy_py2.py")
                plib.write_files(os.path.dirname(vendored), {"__init__.py": "", "legacy_py2.py": plib.PY2_SOURCE})
                manifest = os.path.join(self.tmp.name, "out dir", "pycs %s.json" % plib.python_tag(python))
                result = lib.run(plib.compile_args(python, "--root", layout.stage, "--layout", "prefix",
                                                   "--pycache-prefix", layout.prefix, "-O", "0", "-O", "1",
                                                   "--hardlink-dupes", "--on-error", "skip", "--manifest", manifest,
                                                   staged_pkg))
                self.assertEqual(result.returncode, 0, result.stderr)
                doc = plib.load_json(manifest)
                self.assertEqual(doc["pycemit_manifest"], 1)
                tag = lib.info(python)["cache_tag"]
                sources = [s for s in layout.runtime_sources() if s != vendored[len(layout.stage):]]
                expected = lib.expected_paths(python, sources, [0, 1], prefix=layout.prefix)
                wanted = {(layout.staged(s), level): expected[s][level] for s in sources for level in (0, 1)}
                self.assertEqual(len(doc["outputs"]), len(wanted))
                self.assertEqual([o["path"] for o in doc["outputs"]], sorted(o["path"] for o in doc["outputs"]))
                for out in doc["outputs"]:
                    runtime = wanted.pop((out["source"], out["optimization_level"]))
                    self.assertEqual(out["runtime_path"], runtime)
                    self.assertEqual(out["path"], layout.staged(runtime))
                    self.assertEqual(out["cache_tag"], tag)
                    self.assertEqual(out["invalidation_mode"], "checked-hash")
                    with open(out["path"], "rb") as f:
                        data = f.read()
                    self.assertEqual(out["size"], len(data))
                    self.assertEqual(out["sha256"], hashlib.sha256(data).hexdigest())
                    self.assertIn(out["status"], ("written", "linked"))
                self.assertEqual(wanted, {})
                # Levels 0 and 1 are identical where there is no assert.
                linked = sorted(o["source"][len(staged_pkg) + 1:] for o in doc["outputs"] if o["status"] == "linked")
                self.assertEqual(linked, ["_vendor/__init__.py", "docs.py", "plain.py", "sub/__init__.py",
                                          "sub/deep_module.py"])
                self.assertTrue(all(o["optimization_level"] == 1 for o in doc["outputs"] if o["status"] == "linked"))
                self.assertEqual([s["source"] for s in doc["skipped"]], [vendored])
                self.assertIn("SyntaxError", doc["skipped"][0]["reason"])

                # A run with nothing to do still lists every output, now "unchanged".
                lib.run(plib.compile_args(python, "--root", layout.stage, "--layout", "prefix", "--pycache-prefix",
                                          layout.prefix, "-O", "0", "-O", "1", "--hardlink-dupes", "--on-error",
                                          "skip", "--manifest", manifest, staged_pkg), check=True)
                again = plib.load_json(manifest)
                self.assertEqual({o["status"] for o in again["outputs"]}, {"unchanged"})
                strip = lambda outs: [{k: v for k, v in o.items() if k != "status"} for o in outs]  # noqa: E731
                self.assertEqual(strip(again["outputs"]), strip(doc["outputs"]))

    def test_manifest_in_timestamp_mode_names_the_mode(self):
        python = lib.target_pythons()[0]
        tree = os.path.join(self.tmp.name, "ts tree")
        plib.write_files(tree, {"m.py": "X = 1\n"})
        manifest = os.path.join(self.tmp.name, "m.json")
        lib.run(plib.compile_args(python, "--source-root", tree, "--invalidation-mode", "timestamp", "--manifest",
                                  manifest, tree), check=True)
        (out,) = plib.load_json(manifest)["outputs"]
        self.assertEqual(out["invalidation_mode"], "timestamp")
        self.assertEqual(out["optimization_level"], 0)


class OnErrorTest(unittest.TestCase):
    """A Python 2 file vendored in a package: --on-error fail, warn, skip."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit on-error ")
        self.addCleanup(self.tmp.cleanup)

    def test_policies(self):
        for python in plib.spread(lib.target_pythons(), 2):
            tag = lib.info(python)["cache_tag"]
            for policy, status, prefix in (("fail", 1, ""), ("warn", 0, "warning: "), ("skip", 0, "skipped: "),
                                           (None, 1, "")):
                with self.subTest(python=python, policy=policy):
                    tree = os.path.join(self.tmp.name, "%s %s" % (tag, policy))
                    plib.write_files(tree, plib.PACKAGE)
                    bad = os.path.join(tree, "_vendor", "six_py2.py")
                    plib.write_files(tree, {"_vendor/__init__.py": "", "_vendor/six_py2.py": plib.PY2_SOURCE})
                    manifest = os.path.join(self.tmp.name, "%s %s.json" % (tag, policy))
                    args = ["--source-root", tree, "-O", "0", "-O", "1", "--manifest", manifest]
                    if policy:
                        args += ["--on-error", policy]
                    result = lib.run(plib.compile_args(python, *args, tree))
                    self.assertEqual(result.returncode, status, result.stderr)
                    self.assertRegex(result.stderr, r"(?m)^%s:1:\d+: SyntaxError: " % re.escape(prefix + bad))
                    summary = result.stderr.strip().splitlines()[-1]
                    if status:
                        self.assertIn("1 failed", summary)
                    else:
                        self.assertIn("0 failed, 1 skipped", summary)
                    # Every other file is compiled, whatever the policy.
                    good = [s for s in lib.sources_in(tree) if s != bad]
                    self.assertEqual(len(good), 7)
                    expected = lib.expected_paths(python, good + [bad], [0, 1])
                    self.assertEqual(lib.outputs_in(tree), sorted(expected[s][lvl] for s in good for lvl in (0, 1)))
                    lib.verify(python, plib.expectations_for(python, good, [0, 1], embedded=lambda s: os.path.relpath(s, tree)))
                    doc = plib.load_json(manifest)
                    self.assertEqual([s["source"] for s in doc["skipped"]], [bad])
                    self.assertEqual(len(doc["outputs"]), 14)


if __name__ == "__main__":
    unittest.main()
