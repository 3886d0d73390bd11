"""pycemit in a real Meson project: examples/meson with the meson under test
($PYCEMIT_MESON: Debian 12's 1.0.1, Debian sid's 1.12.1; see meson_testlib).

Copies of the example (under paths with spaces) find pycemit on PATH
($PYCEMIT_BIN), are configured for real interpreters (the oldest, Debian's
system one, the newest: Python >= 3.12 takes the example's no-distutils branch
on Meson < 1.2), built with Ninja and installed with DESTDIR (and once without).
For both forms (bytecode=build: pycs are build outputs Meson installs;
bytecode=install: pycemit compiles the installed tree at install time) and the
three layouts, checked: exactly the pycs the interpreter's own
cache_from_source names; verify_pycs.py inside the interpreter with the final
path as co_filename (also read directly with marshal); no staging, build or
source path in any pyc; with Meson 1.2 and later, configured with
-Dpython.bytecompile=-1, Meson's own python module finds every interpreter, Python
3.12+ included (the example's find_program fallback is for Meson < 1.2, whose python
module needs distutils); nothing written at the final prefix by a DESTDIR
install; after copying the staged tree to its final place, the interpreter
imports every module from its pyc (-v, --check-hash-based-pycs always) at every
level; a second install with nothing changed rewrites no pyc; incremental
rebuilds; `ninja uninstall` (with `ninja uninstall-bytecode` first for the
install-time form) leaves no pyc and no __pycache__ behind. The install-time
form is checked to be the documented call: Meson runs
`pycemit compile -q --root-env DESTDIR ... --manifest <build dir file> <run-time
package dir>` itself (no interpreter or shell in between), and
uninstall-bytecode runs `pycemit remove <manifest>`.
"""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import meson_testlib as mt  # noqa: E402
import pycemit_testlib as lib  # noqa: E402


class MesonExampleTest(mt.ExampleChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        mt.tool("meson")
        mt.tool("ninja")
        cls.oldest, cls.system, cls.newest = mt.pick_pythons()

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit meson ")
        self.addCleanup(self.tmp.cleanup)
        root = self.tmp.name
        self.env = mt.env(path_first=mt.tool_dir(root))
        self.source = mt.copy_example(os.path.join(root, "chime source"))
        self.build = os.path.join(root, "build dir")
        self.destdir = os.path.join(root, "stage dir")
        # The final install location: a DESTDIR install never writes there;
        # deploy() copies the staged tree there, as a package manager would.
        self.final_root = os.path.join(root, "final root")
        self.prefix = os.path.join(self.final_root, "usr")

    def setup_example(self, python, **options):
        options = dict(mt.bytecompile_off(), python=python, **options)
        result = mt.setup(self.source, self.build, self.prefix, options, self.env)
        self.assertRegex(result.output, r"Program pycemit found: YES .*installed pycemit")
        # Which branch of the example found the interpreter (its summary() line): Meson's
        # python module from 1.2 on, Python 3.12+ included; find_program for 3.12+ before.
        if mt.has_builtin_bytecompile():
            self.assertRegex(result.output, r"interpreter found by\s*: Meson's python module")
        elif lib.python_version(python) >= (3, 12):
            self.assertRegex(result.output, r"interpreter found by\s*: find_program")
        return result

    def install_and_check(self, python, layout, levels, mode, pycache_prefix=None, destdir=None):
        destdir = destdir or self.destdir
        self.install_output = mt.install(self.build, self.env, destdir=destdir).output
        self.assertFalse(os.path.exists(self.final_root), "a DESTDIR install wrote to the final prefix")
        expected = self.check_installed(python, self.env, layout, levels, mode, destdir, pycache_prefix)
        mt.deploy(destdir, self.final_root)
        package = self.package_dir(self.env)
        self.check_imports(python, package, expected, levels, layout, pycache_prefix)
        self.check_example_runs(python, package, layout, pycache_prefix)
        return expected

    def staged_pycs(self, destdir=None):
        return mt.files_under(destdir or self.destdir, ".pyc")

    # ---- bytecode=build: pycs are build outputs that Meson installs ----------

    def test_build_form_install_reinstall_uninstall(self):
        python, levels = self.oldest, [0, 1, 2]
        self.setup_example(python, bytecode_levels="0,1,2")
        mt.ninja(self.build, self.env)
        self.assertIn("no work to do", mt.ninja(self.build, self.env).output)

        # First install, checked, then uninstalled: Meson removes every file and
        # every directory it created, the pycs and __pycache__ included.
        first = os.path.join(self.tmp.name, "first stage")
        self.install_and_check(python, "pycache", levels, "checked-hash", destdir=first)
        mt.uninstall(self.build, self.env)
        self.assertFalse(os.path.exists(first), "ninja uninstall left %s" % mt.files_under(first))

        # Installs with nothing changed: Ninja has nothing to do, pycemit writes
        # nothing. A plain `meson install` copies every file again (Meson's own
        # behaviour): same bytes and mtimes, new inodes. --only-changed copies
        # nothing at all.
        mt.install(self.build, self.env, destdir=self.destdir)
        built = mt.snapshot(mt.files_under(os.path.join(self.build, "chime", "chime"), ".pyc"))
        before = mt.snapshot(self.staged_pycs())
        again = mt.install(self.build, self.env, destdir=self.destdir)
        self.assertIn("ninja: no work to do", again.output)
        self.assertEqual(mt.snapshot(built), built, "the build rewrote pycs")
        after = mt.snapshot(self.staged_pycs())
        self.assertEqual({p: v[1:] for p, v in after.items()}, {p: v[1:] for p, v in before.items()})
        only_changed = mt.install(self.build, self.env, destdir=self.destdir, only_changed=True)
        self.assertIn("Preserved", only_changed.output)
        self.assertEqual(mt.snapshot(self.staged_pycs()), after, "--only-changed rewrote pycs")

        # Meson (1.0.1, 1.12.1) logs files preserved by --only-changed as comments,
        # so `ninja uninstall` would skip them: install once more, then uninstall.
        with open(os.path.join(self.build, "meson-logs", "install-log.txt")) as f:
            preserved = {line[len("# Preserving old file "):].rstrip("\n") for line in f
                         if line.startswith("# Preserving old file ")}
        self.assertTrue(set(self.staged_pycs()) <= preserved, preserved)
        mt.install(self.build, self.env, destdir=self.destdir)
        mt.uninstall(self.build, self.env)
        self.assertEqual(mt.files_under(self.destdir), [], "ninja uninstall left files behind")

    def test_build_form_incremental(self):
        python = self.newest
        self.setup_example(python)
        mt.ninja(self.build, self.env)
        outputs = os.path.join(self.build, "chime", "chime")
        before = mt.snapshot(mt.files_under(outputs, ".pyc"))
        self.assertEqual(len(before), len(mt.EXAMPLE_SOURCES) * 2)

        # Editing one source rewrites its two pycs and nothing else; the next
        # build has nothing to do (the output directory's mtime does not change,
        # but Meson's custom commands restat).
        with open(os.path.join(self.source, "chime", "formats", "text.py"), "a") as f:
            f.write("\nSEPARATOR = '-'\n")
        self.assertIn("chime-bytecode", mt.ninja(self.build, self.env).output)
        after = mt.snapshot(mt.files_under(outputs, ".pyc"))
        changed = sorted(os.path.relpath(p, outputs) for p in before if before[p] != after[p])
        self.assertEqual([os.path.basename(p).split(".")[0] for p in changed], ["text", "text"])
        self.assertIn("no work to do", mt.ninja(self.build, self.env).output)

        # Touching a source without changing it: pycemit runs, rewrites nothing.
        os.utime(os.path.join(self.source, "chime", "core.py"))
        mt.ninja(self.build, self.env)
        self.assertEqual(mt.snapshot(mt.files_under(outputs, ".pyc")), after)
        self.assertIn("no work to do", mt.ninja(self.build, self.env).output)

        # Another mode is another command line: everything is rewritten.
        mt.configure(self.build, {"bytecode_mode": "unchecked-hash"}, self.env)
        mt.ninja(self.build, self.env)
        rewritten = mt.snapshot(mt.files_under(outputs, ".pyc"))
        self.assertTrue(all(rewritten[p][2] != after[p][2] for p in after))
        self.install_and_check(python, "pycache", [0, 1], "unchecked-hash")

        # Dropping a level: pycemit does not delete outputs it no longer plans,
        # so docs/meson.md says to clean the build directory, which removes
        # custom targets' output directories.
        mt.configure(self.build, {"bytecode_levels": "0"}, self.env)
        mt.ninja(self.build, self.env, "clean")
        self.assertFalse(os.path.exists(outputs))
        mt.ninja(self.build, self.env)
        self.assertEqual(len(mt.files_under(outputs, ".pyc")), len(mt.EXAMPLE_SOURCES))

    def test_build_form_prefix_layout_timestamp(self):
        # Timestamp pycs stay valid after installation because Meson copies the
        # sources with their mtimes (and so does deploy()).
        python = self.newest
        pycache_prefix = os.path.join(self.final_root, "var", "cache", "python pycs")
        self.setup_example(python, bytecode_layout="prefix", bytecode_prefix=pycache_prefix,
                           bytecode_mode="timestamp")
        self.install_and_check(python, "prefix", [0, 1], "timestamp", pycache_prefix)
        mt.uninstall(self.build, self.env)
        self.assertFalse(os.path.exists(self.destdir), mt.files_under(self.destdir))

    def test_build_form_sourceless(self):
        python = self.system
        self.setup_example(python, bytecode_layout="sourceless", bytecode_levels="0")
        self.install_and_check(python, "sourceless", [0], "checked-hash")
        self.assertEqual(mt.files_under(self.destdir, ".py"), [], "sources installed beside sourceless pycs")
        mt.uninstall(self.build, self.env)
        self.assertFalse(os.path.exists(self.destdir), mt.files_under(self.destdir))

    # ---- bytecode=install: pycemit compiles the installed tree ----------------

    def manifest_path(self):
        return os.path.join(self.build, "chime", "chime-bytecode.json")

    def manifest(self):
        with open(self.manifest_path(), encoding="utf-8") as f:
            return json.load(f)

    def check_install_form_commands(self, install_output, python, layout, levels, mode, pycache_prefix=None):
        """The install script is pycemit itself, with exactly the documented
        arguments (Meson logs them joined by spaces); uninstall-bytecode runs
        `pycemit remove <manifest>`."""
        pycemit = os.path.join(mt.tool_dir(self.tmp.name), "pycemit")
        expected = [pycemit, "compile", "-q", "--root-env", "DESTDIR", "--python", python,
                    "--invalidation-mode", mode, "--layout", layout]
        for level in levels:
            expected += ["-O", str(level)]
        if layout == "prefix":
            expected += ["--pycache-prefix", pycache_prefix]
        expected += ["--manifest", self.manifest_path(), self.package_dir(self.env)]
        self.assertEqual(mt.install_script_commands(install_output), [" ".join(expected)])
        self.assertEqual(mt.run_target_command(self.build, self.env, "uninstall-bytecode"),
                         [pycemit, "remove", self.manifest_path()])

    def uninstall_bytecode(self, tree):
        """`ninja uninstall-bytecode`: afterwards no pyc and no __pycache__ under `tree`."""
        result = mt.ninja(self.build, self.env, "uninstall-bytecode")
        self.assertEqual(mt.files_under(tree, ".pyc"), [], "uninstall-bytecode left pycs")
        self.assertEqual(mt.dirs_named(tree, "__pycache__"), [], "uninstall-bytecode left __pycache__")
        return result

    def test_install_form_reinstall_uninstall(self):
        python, levels = self.system, [0, 1]
        self.setup_example(python, bytecode="install", bytecode_mode="unchecked-hash")
        expected = self.install_and_check(python, "pycache", levels, "unchecked-hash")
        self.check_install_form_commands(self.install_output, python, "pycache", levels, "unchecked-hash")

        manifest = self.manifest()["outputs"]
        self.assertEqual(sorted(o["path"] for o in manifest), self.staged_pycs())
        self.assertEqual(sorted(o["runtime_path"] for o in manifest),
                         sorted(p for by_level in expected.values() for p in by_level.values()))
        self.assertEqual({o["status"] for o in manifest}, {"written"})

        # A second install with nothing changed: pycemit rewrites no pyc (same
        # inodes, mtimes and bytes), although Meson copies the sources again.
        before = mt.snapshot(self.staged_pycs())
        mt.install(self.build, self.env, destdir=self.destdir)
        self.assertEqual(mt.snapshot(self.staged_pycs()), before)
        self.assertEqual({o["status"] for o in self.manifest()["outputs"]}, {"unchanged"})

        # Uninstall: first the pycs the manifest lists (and the __pycache__
        # directories), then Meson's files. The manifest stays: running the
        # target again removes nothing and is no error.
        removed = self.uninstall_bytecode(self.destdir)
        self.assertIn("%d pycs removed" % len(before), removed.output)
        self.assertIn("0 pycs removed", self.uninstall_bytecode(self.destdir).output)
        mt.uninstall(self.build, self.env)
        self.assertEqual(mt.files_under(self.destdir), [], "files left behind")

        # From a fresh DESTDIR, the two steps remove every directory as well.
        fresh = os.path.join(self.tmp.name, "fresh stage")
        mt.install(self.build, self.env, destdir=fresh)
        self.assertEqual(len(self.staged_pycs(fresh)), len(mt.EXAMPLE_SOURCES) * len(levels))
        self.uninstall_bytecode(fresh)
        mt.uninstall(self.build, self.env)
        self.assertFalse(os.path.exists(fresh), mt.files_under(fresh))

    def test_install_form_prefix_layout(self):
        python = self.oldest
        pycache_prefix = os.path.join(self.final_root, "var", "cache", "python pycs")
        self.setup_example(python, bytecode="install", bytecode_layout="prefix", bytecode_prefix=pycache_prefix,
                           bytecode_levels="0,2")
        self.install_and_check(python, "prefix", [0, 2], "checked-hash", pycache_prefix)
        self.check_install_form_commands(self.install_output, python, "prefix", [0, 2], "checked-hash",
                                         pycache_prefix)
        self.uninstall_bytecode(self.destdir)
        mt.uninstall(self.build, self.env)
        # The pycache-prefix tree's directories stay (neither Meson nor pycemit
        # remove them); its files do not, nor do Meson's.
        self.assertEqual(mt.files_under(self.destdir), [])

    def test_install_form_without_destdir(self):
        # A real install (no DESTDIR) into a writable prefix: the pycs embed the
        # prefix's paths and are imported where they were installed.
        python = self.newest
        self.setup_example(python, bytecode="install", bytecode_mode="timestamp")
        result = mt.install(self.build, self.env)
        self.check_install_form_commands(result.output, python, "pycache", [0, 1], "timestamp")
        expected = self.check_installed(python, self.env, "pycache", [0, 1], "timestamp")
        self.check_imports(python, self.package_dir(self.env), expected, [0, 1], "pycache")
        self.check_example_runs(python, self.package_dir(self.env), "pycache")
        manifest = self.manifest()["outputs"]
        self.assertEqual(sorted(o["path"] for o in manifest), mt.files_under(self.final_root, ".pyc"))
        self.assertTrue(all(o["path"] == o["runtime_path"] for o in manifest), manifest)

        # A second install, with DESTDIR empty (Meson passes it on as empty:
        # pycemit's root is then / too), rewrites nothing; then the two
        # uninstall steps leave no file (the directories stay: Meson removes
        # only those its last install created, and this one created none).
        before = mt.snapshot(mt.files_under(self.final_root, ".pyc"))
        mt.run([mt.tool("meson"), "install", "-C", self.build], dict(self.env, DESTDIR=""))
        self.assertEqual(mt.snapshot(mt.files_under(self.final_root, ".pyc")), before)
        self.assertEqual({(o["path"], o["status"]) for o in self.manifest()["outputs"]},
                         {(o["path"], "unchanged") for o in manifest})
        self.uninstall_bytecode(self.final_root)
        mt.uninstall(self.build, self.env)
        self.assertEqual(mt.files_under(self.final_root), [])

    def test_sourceless_install_form_refused(self):
        result = mt.run([mt.tool("meson"), "setup", self.build, self.source, "--prefix", self.prefix,
                         "-Dpython=" + self.system, "-Dbytecode=install", "-Dbytecode_layout=sourceless"]
                        + ["-D%s=%s" % option for option in mt.bytecompile_off().items()],
                        self.env, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("sourceless needs bytecode=build", result.output)


if __name__ == "__main__":
    unittest.main(verbosity=2)
