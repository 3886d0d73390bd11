"""This repository as a Meson subproject: the fallback when pycemit is not installed
(with the meson under test: $PYCEMIT_MESON, see meson_testlib).

A copy of examples/meson whose subprojects/pycemit is a symbolic link to this
repository is configured with no pycemit on PATH: find_program('pycemit') fails,
subproject('pycemit') builds the tool from the root meson.build with Meson and
overrides find_program('pycemit'). Checked: the override is used; the pycs the
Meson-built pycemit writes are byte-identical to those of $PYCEMIT_BIN (the CMake
build); the subproject's binary is not installed with the parent; both forms
(build outputs, then install time after reconfiguring) install checked,
importable pycs with DESTDIR, and uninstall leaves no pyc and no __pycache__
behind. In the install-time form the install script and uninstall-bytecode run
the subproject's binary itself (`pycemit compile --root-env DESTDIR ...`,
`pycemit remove <manifest>`).
"""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import meson_testlib as mt  # noqa: E402
import pycemit_testlib as lib  # noqa: E402


class MesonSubprojectTest(mt.ExampleChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        mt.tool("meson")
        mt.tool("ninja")
        cls.tmp = tempfile.TemporaryDirectory(prefix="pycemit meson subproject ")
        root = cls.tmp.name
        # Not the interpreters test_meson.py uses most: one in the middle.
        oldest, system, newest = mt.pick_pythons()
        ordered = sorted(lib.target_pythons(), key=lib.python_version)
        cls.python = next((p for p in ordered if p not in (oldest, system, newest)), system)
        cls.env = mt.env(subproject_only=True)
        cls.source = mt.copy_example(os.path.join(root, "chime source"), subproject=True)
        cls.build = os.path.join(root, "build dir")
        cls.final_root = os.path.join(root, "final root")
        cls.prefix = os.path.join(cls.final_root, "usr")
        # pycemit's C++ without optimization (Meson 1.12 builds the subproject with its own
        # buildtype=debugoptimized otherwise): the bytes it writes do not depend on it.
        options = dict(mt.bytecompile_off(), python=cls.python, **{"pycemit:buildtype": "debug"})
        cls.setup_output = mt.setup(cls.source, cls.build, cls.prefix, options, cls.env).output
        cls.build_output = mt.ninja(cls.build, cls.env).output

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_1_fallback_builds_pycemit(self):
        self.assertIn("Program pycemit found: NO", self.setup_output)
        self.assertIn("Executing subproject pycemit", self.setup_output)
        self.assertIn("Program pycemit found: YES 0.1.0 (overridden)", self.setup_output)
        tool = os.path.join(self.build, "subprojects", "pycemit", "pycemit")
        self.assertTrue(os.access(tool, os.X_OK), tool)
        commands = mt.run([mt.tool("ninja"), "-C", self.build, "-t", "commands", "subprojects/pycemit/pycemit"],
                          self.env).stdout
        compiles = [line for line in commands.splitlines() if " -c " in line]
        self.assertTrue(compiles and all(" -O0 " in line for line in compiles), compiles[:1])
        self.assertIn("pycemit 0.1.0", mt.run([tool, "--version"], self.env).output)
        # The parent installs its own files, not the tool it built.
        self.assertFalse([f for f in mt.installed(self.build, self.env) if f.endswith(os.sep + "pycemit")])

    def test_2_same_bytes_as_the_cmake_build(self):
        package = self.package_dir(self.env)
        ours = os.path.join(self.tmp.name, "cmake-built outputs")
        lib.run(["compile", "-q", "--python", self.python, "-O", "0", "-O", "1",
                 "--source-root", os.path.join(self.source, "chime"), "--install-root", package,
                 "--output-root", ours, os.path.join(self.source, "chime")], check=True)
        meson_built = os.path.join(self.build, "chime", "chime")
        self.assertEqual(lib.tree_digest(meson_built), lib.tree_digest(ours))
        self.assertEqual(len(lib.tree_digest(ours)), 2 * len(mt.EXAMPLE_SOURCES))

    def test_3_build_form_then_install_form(self):
        levels = [0, 1]
        destdir = os.path.join(self.tmp.name, "stage dir")
        mt.install(self.build, self.env, destdir=destdir)
        self.assertEqual([f for f in mt.files_under(destdir) if os.path.basename(f) == "pycemit"], [])
        expected = self.check_installed(self.python, self.env, "pycache", levels, "checked-hash", destdir)
        mt.deploy(destdir, self.final_root)
        self.check_imports(self.python, self.package_dir(self.env), expected, levels, "pycache")
        self.check_example_runs(self.python, self.package_dir(self.env), "pycache")
        mt.uninstall(self.build, self.env)
        self.assertFalse(os.path.exists(destdir), mt.files_under(destdir))

        # The install-time form: the install script is the subproject's binary
        # (Meson passes its absolute path), and so is uninstall-bytecode's command.
        mt.configure(self.build, {"bytecode": "install"}, self.env)
        second = os.path.join(self.tmp.name, "second stage")
        result = mt.install(self.build, self.env, destdir=second)
        tool = os.path.join(self.build, "subprojects", "pycemit", "pycemit")
        manifest = os.path.join(self.build, "chime", "chime-bytecode.json")
        scripts = mt.install_script_commands(result.output)
        self.assertEqual(len(scripts), 1, scripts)
        self.assertTrue(scripts[0].startswith(tool + " compile -q --root-env DESTDIR --python "), scripts)
        self.assertTrue(scripts[0].endswith(" --manifest %s %s" % (manifest, self.package_dir(self.env))), scripts)
        self.assertEqual(mt.run_target_command(self.build, self.env, "uninstall-bytecode"),
                         [tool, "remove", manifest])
        expected = self.check_installed(self.python, self.env, "pycache", levels, "checked-hash", second)
        shutil.rmtree(self.final_root)
        mt.deploy(second, self.final_root)
        self.check_imports(self.python, self.package_dir(self.env), expected, levels, "pycache")
        mt.meson_compile(self.build, self.env, "uninstall-bytecode")  # = ninja -C build uninstall-bytecode
        self.assertEqual(mt.files_under(second, ".pyc"), [])
        self.assertEqual(mt.dirs_named(second, "__pycache__"), [])
        mt.uninstall(self.build, self.env)
        self.assertFalse(os.path.exists(second), mt.files_under(second))


if __name__ == "__main__":
    unittest.main(verbosity=2)
