"""Packaging: a package staged under a staging root
(DESTDIR, buildroot) is compiled there for its run-time location, in the
__pycache__ layout and as a run-time pycache prefix tree, then moved to its
real place and imported by the interpreter, which must use pycemit's pycs.

The run-time locations are inside a temporary directory (see
packaging_testlib.Layout): a chroot-free equivalent of installing into / .
Paths have spaces. Every CPython >= 3.8 installed takes part in the main test.
"""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import packaging_testlib as plib  # noqa: E402
import pycemit_testlib as lib  # noqa: E402


class StagedInstallTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit packaging ")
        self.addCleanup(self.tmp.cleanup)

    def layout(self, python, name):
        return plib.Layout(os.path.join(self.tmp.name, name), python)

    def assert_imports_use(self, python, layout, expected, flags, level, env=None):
        """Imports every module of the installed package with `flags`; asserts
        each module's code came from the pyc `expected` names for `level`."""
        files, loaded, stale = lib.imported_from(python, layout.site, plib.MODULES, flags=flags, env=env)
        self.assertEqual(stale, [], "the interpreter rejected a pyc")
        for module, source in files.items():
            self.assertTrue(source.startswith(layout.package + os.sep), (module, source))
            self.assertIn(expected[source][level], loaded,
                          "%s (flags %s) was not loaded from its pyc" % (module, " ".join(flags)))

    def test_prefix_tree_is_used_after_install_in_every_interpreter(self):
        """The issue's acceptance check: a staged tree compiled with a run-time
        pycache prefix and levels 0 and 1, moved to where it is installed and
        imported with -X pycache_prefix (and -O)."""
        for i, python in enumerate(lib.target_pythons()):
            with self.subTest(python=python):
                layout = self.layout(python, "prefix %d" % i)
                staged_pkg = layout.stage_package()
                result = lib.run(plib.compile_args(python, "--root", layout.stage, "--layout", "prefix",
                                                   "--pycache-prefix", layout.prefix, "-O", "0", "-O", "1",
                                                   "--hardlink-dupes", staged_pkg), check=True)
                self.assertIn("6 sources, 12 pycs written", result.stderr)

                sources = layout.runtime_sources()
                expected = lib.expected_paths(python, sources, [0, 1], prefix=layout.prefix)
                # Written under the staging root at exactly the run-time prefix path...
                staged_pycs = sorted(layout.staged(expected[s][level]) for s in sources for level in (0, 1))
                self.assertEqual(lib.outputs_in(layout.stage), staged_pycs)
                self.assertEqual(plib.pycache_dirs(layout.stage), [], "nothing goes to __pycache__")

                layout.install()
                self.assertFalse(os.path.exists(layout.stage + layout.runtime))
                # ...so after installation the interpreter finds them with -X pycache_prefix.
                prefix_flag = ["-X", "pycache_prefix=" + layout.prefix]
                self.assert_imports_use(python, layout, expected, prefix_flag, 0)
                self.assert_imports_use(python, layout, expected, prefix_flag + ["-O"], 1)
                self.assert_imports_use(python, layout, expected, ["-O"], 1, env={"PYTHONPYCACHEPREFIX": layout.prefix})
                # Embedded path: the run-time source path; the staging root is nowhere.
                lib.verify(python, plib.expectations_for(python, sources, [0, 1], prefix=layout.prefix))
                plib.assert_bytes_absent(self, lib.outputs_in(layout.prefix), layout.stage, "staging root")
                # The installed tree passes pycemit check (--root / : paths are run-time paths).
                check = lib.run(["check", "--python", python, "--root", "/", "--layout", "prefix",
                                 "--pycache-prefix", layout.prefix, "-O", "0", "-O", "1", layout.package])
                self.assertEqual((check.returncode, check.stdout), (0, ""), check.stderr)
                # Without the prefix the interpreter does not see them (so the test above means something).
                files, loaded, _ = lib.imported_from(python, layout.site, ["tinypkg"])
                self.assertFalse(any(p.startswith(layout.prefix) for p in loaded))

    def test_pycache_layout_under_a_staging_root(self):
        for python in plib.spread(lib.target_pythons(), 2):
            with self.subTest(python=python):
                layout = self.layout(python, "pycache %s" % plib.python_tag(python))
                staged_pkg = layout.stage_package()
                lib.run(plib.compile_args(python, "--root", layout.stage, "-O", "0", "-O", "1", "-O", "2",
                                          staged_pkg), check=True)
                layout.install()
                sources = lib.sources_in(layout.package)
                expected = lib.expected_paths(python, sources, [0, 1, 2])
                self.assertEqual(lib.outputs_in(layout.runtime),
                                 sorted(expected[s][level] for s in sources for level in (0, 1, 2)))
                self.assert_imports_use(python, layout, expected, [], 0)
                self.assert_imports_use(python, layout, expected, ["-O"], 1)
                self.assert_imports_use(python, layout, expected, ["-OO"], 2)
                lib.verify(python, plib.expectations_for(python, sources, [0, 1, 2]))
                plib.assert_bytes_absent(self, lib.outputs_in(layout.runtime), layout.stage, "staging root")

    def test_prefix_tree_from_a_build_tree_with_install_and_output_roots(self):
        """Without a staging root: sources in a build tree, --install-root says
        where they will be, --output-root receives the prefix tree; moving both
        into place gives a working install (what a build system's install step
        does in two copies)."""
        for python in plib.spread(lib.target_pythons(), 2):
            with self.subTest(python=python):
                layout = self.layout(python, "roots %s" % plib.python_tag(python))
                build_tree = os.path.join(layout.base, "build tree", plib.DIST_NAME)
                plib.write_files(build_tree, plib.PACKAGE)
                out = os.path.join(layout.base, "prefix tree out")
                lib.run(plib.compile_args(python, "--source-root", build_tree, "--install-root", layout.package,
                                          "--layout", "prefix", "--pycache-prefix", layout.prefix,
                                          "--output-root", out, "-O", "0", "-O", "1", build_tree), check=True)
                self.assertEqual(plib.pycache_dirs(build_tree), [])
                os.makedirs(os.path.dirname(layout.package))
                shutil.move(build_tree, layout.package)
                os.makedirs(os.path.dirname(layout.prefix))
                shutil.move(out, layout.prefix)
                sources = lib.sources_in(layout.package)
                expected = lib.expected_paths(python, sources, [0, 1], prefix=layout.prefix)
                self.assertEqual(lib.outputs_in(layout.prefix),
                                 sorted(p for s in sources for p in expected[s].values()))
                prefix_flag = ["-X", "pycache_prefix=" + layout.prefix]
                self.assert_imports_use(python, layout, expected, prefix_flag, 0)
                self.assert_imports_use(python, layout, expected, prefix_flag + ["-O"], 1)
                lib.verify(python, plib.expectations_for(python, sources, [0, 1], prefix=layout.prefix))

    def test_bigger_real_world_tree_in_a_prefix_tree(self):
        """Real-world code (copies of some of the standard library's packages,
        staged as site-packages): the same route as above on over a hundred
        modules of every kind of construct."""
        for python in plib.spread(lib.target_pythons(), 2):
            with self.subTest(python=python):
                layout = self.layout(python, "big %s" % plib.python_tag(python))
                stdlib = lib.stdlib_dir(python)
                names = ["asyncio", "concurrent", "email", "http", "importlib", "json", "logging", "urllib", "xml"]
                for name in names:
                    shutil.copytree(os.path.join(stdlib, name), layout.staged(os.path.join(layout.site, name)),
                                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
                staged_site = layout.staged(layout.site)
                lib.run(plib.compile_args(python, "--root", layout.stage, "--layout", "prefix", "--pycache-prefix",
                                          layout.prefix, "-O", "0", "-O", "1", "--hardlink-dupes", staged_site),
                        check=True)
                sources = [s[len(layout.stage):] for s in lib.sources_in(staged_site)]
                self.assertGreater(len(sources), 100)
                layout.install()
                lib.verify(python, plib.expectations_for(python, sources, [0, 1], prefix=layout.prefix))
                plib.assert_bytes_absent(self, lib.outputs_in(layout.prefix), layout.stage, "staging root")
                modules = ["asyncio.streams", "email.mime.multipart", "email.parser", "http.client", "json.decoder",
                           "logging.handlers", "urllib.request", "xml.dom.minidom", "xml.etree.ElementTree"]
                expected = lib.expected_paths(python, sources, [0, 1], prefix=layout.prefix)
                for flags, level in (([], 0), (["-O"], 1)):
                    files, loaded, stale = lib.imported_from(
                        python, layout.site, modules, flags=["-X", "pycache_prefix=" + layout.prefix] + flags)
                    self.assertEqual(stale, [])
                    for module, source in files.items():
                        self.assertTrue(source.startswith(layout.site), (module, source))
                        self.assertIn(expected[source][level], loaded, module)

    def test_same_package_in_two_staging_roots_gives_identical_pycs(self):
        """A rebuild in another buildroot (another path, another job count) gives
        the same bytes: what reproducible-builds checks compare."""
        python = lib.target_pythons()[-1]
        digests = []
        for name, jobs in (("first build", "1"), ("second, other build dir", "3")):
            # Two staging roots, one run-time place.
            layout = plib.Layout(os.path.join(self.tmp.name, name), python,
                                 runtime=os.path.join(self.tmp.name, "shared run time"))
            staged_pkg = layout.stage_package(record=False)
            for extra in ([], ["--layout", "prefix", "--pycache-prefix", layout.prefix]):
                lib.run(["compile", "--python", python, "-j", jobs, "--root", layout.stage, "-O", "0", "-O", "1",
                         "--hardlink-dupes"] + extra + [staged_pkg], check=True)
            digests.append(lib.tree_digest(layout.stage))
        self.assertEqual(len(digests[0]), 24)
        self.assertEqual(digests[0], digests[1])

    def test_symlinks_escaping_the_staging_root_are_refused(self):
        python = lib.target_pythons()[-1]
        layout = self.layout(python, "symlinks")
        staged_pkg = layout.stage_package()
        outside = os.path.join(self.tmp.name, "outside the root")
        plib.write_files(outside, {"ext.py": "E = 1\n", "extpkg/__init__.py": "", "extpkg/m.py": "M = 1\n"})
        # Escaping: an absolute file symlink, a relative directory symlink through "..".
        os.symlink(os.path.join(outside, "ext.py"), os.path.join(staged_pkg, "ext.py"))
        os.symlink(os.path.relpath(os.path.join(outside, "extpkg"), staged_pkg), os.path.join(staged_pkg, "extpkg"))
        # Inside the root: a file symlink and a directory symlink are compiled.
        os.symlink("plain.py", os.path.join(staged_pkg, "alias.py"))
        os.symlink("sub", os.path.join(staged_pkg, "sub_alias"))

        result = lib.run(plib.compile_args(python, "--root", layout.stage, staged_pkg))
        self.assertEqual(result.returncode, 1, result.stderr)
        for name in ("ext.py", "extpkg"):
            self.assertRegex(result.stderr, r"(?m)^.*/%s: symlink to .* points outside the staging root .*; refused$"
                             % name)
        self.assertEqual(lib.outputs_in(outside), [], "nothing is written outside the staging root")
        tag = lib.info(python)["cache_tag"]
        self.assertTrue(os.path.isfile(os.path.join(staged_pkg, "__pycache__", "alias.%s.pyc" % tag)))
        self.assertTrue(os.path.isfile(os.path.join(staged_pkg, "sub_alias", "__pycache__",
                                                    "deep_module.%s.pyc" % tag)))
        self.assertFalse(any("ext" in os.path.basename(p) for p in lib.outputs_in(layout.stage)))

    def test_paths_through_an_escaping_symlink_are_refused(self):
        """A PATH argument that reaches outside the staging root through a
        symlinked directory (named with a trailing slash, or as a component of a
        longer path) must be refused like a symlink met while walking: otherwise
        pycs are written outside the staging root."""
        python = lib.target_pythons()[-1]
        layout = self.layout(python, "symlink arguments")
        staged_pkg = layout.stage_package()
        outside = os.path.join(self.tmp.name, "outside the root")
        plib.write_files(outside, {"extpkg/__init__.py": "", "extpkg/m.py": "M = 1\n"})
        link = os.path.join(staged_pkg, "extpkg")
        os.symlink(os.path.join(outside, "extpkg"), link)
        for argument in (link, link + "/", os.path.join(link, "m.py")):
            with self.subTest(argument=argument):
                result = lib.run(plib.compile_args(python, "--root", layout.stage, argument))
                written_outside = lib.outputs_in(outside)
                for pycache in plib.pycache_dirs(outside):
                    shutil.rmtree(pycache)
                self.assertEqual(written_outside, [], "pycs written outside the staging root")
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn("points outside the staging root", result.stderr)


if __name__ == "__main__":
    unittest.main()
