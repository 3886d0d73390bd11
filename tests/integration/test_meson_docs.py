"""docs/meson.md's Meson code works as written, in a project outside this repository.

The `meson` code blocks of its "Quick start" section (each starting with a
`# <file name>` comment) are written to a fresh project with a two-module
package, which is configured with Debian's Meson 1.0.1 (pycemit on PATH, the
default interpreter of Meson's python module), built, installed with DESTDIR and
checked like the example (test_meson.py): pycs where the interpreter looks, final
paths embedded, nothing of DESTDIR, build or source directory in them, imported
from their final place; then `ninja uninstall` removes everything.

Then the same project with the `# mypkg/meson.build` of the "install-time form"
section instead (pycemit itself as the install script, with --root-env DESTDIR,
and `pycemit remove` as uninstall-bytecode), run as that section's commands do:
`meson install --destdir`, checked the same way; a second install rewrites
nothing; `ninja uninstall-bytecode` leaves no pyc and no __pycache__, and
`ninja uninstall` then removes every file (and, after an install into a fresh
DESTDIR, every directory).
"""
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import meson_testlib as mt  # noqa: E402

DOC = os.path.join(mt.REPO, "docs", "meson.md")


def section_files(title):
    """{file name: text} from the meson code blocks of section `title`."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    section = text.split("\n## %s\n" % title, 1)[1].split("\n## ", 1)[0]
    files = {}
    for block in re.findall(r"```meson\n(.*?)```", section, re.S):
        first, _, rest = block.partition("\n")
        name = re.fullmatch(r"# (\S+)", first)
        if name:
            files[name.group(1)] = block
    return files


def quick_start_files():
    return section_files("Quick start")


class MesonDocsTest(mt.ExampleChecks, unittest.TestCase):
    PACKAGE = "mypkg"
    SOURCES = ["__init__.py", "util.py"]
    MODULES = ["mypkg", "mypkg.util"]

    def setUp(self):
        mt.tool("meson")
        mt.tool("ninja")
        tmp = tempfile.TemporaryDirectory(prefix="pycemit meson docs ")
        self.addCleanup(tmp.cleanup)
        self.env = mt.env(path_first=mt.tool_dir(tmp.name))
        self.pycemit = os.path.join(mt.tool_dir(tmp.name), "pycemit")
        self.source = os.path.join(tmp.name, "my project")
        self.build = os.path.join(tmp.name, "build dir")
        self.destdir = os.path.join(tmp.name, "stage dir")
        self.final_root = os.path.join(tmp.name, "final root")

    def write_project(self, files):
        for name, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(self.source, name)), exist_ok=True)
            with open(os.path.join(self.source, name), "w") as f:
                f.write(text)
        with open(os.path.join(self.source, "mypkg", "__init__.py"), "w") as f:
            f.write('"""mypkg."""\nfrom mypkg.util import double\n')
        with open(os.path.join(self.source, "mypkg", "util.py"), "w") as f:
            f.write('def double(x):\n    """Twice x."""\n    assert x is not None\n    return 2 * x\n')
        mt.setup(self.source, self.build, os.path.join(self.final_root, "usr"), {}, self.env)

    def check_and_run(self, python):
        """Checks the staged pycs, deploys them, imports them; returns the staged pycs."""
        self.assertFalse(os.path.exists(self.final_root), "a DESTDIR install wrote to the final prefix")
        expected = self.check_installed(python, self.env, "pycache", [0, 1], "checked-hash", self.destdir)
        mt.deploy(self.destdir, self.final_root)
        package = self.package_dir(self.env)
        self.check_imports(python, package, expected, [0, 1], "pycache")
        self.assertEqual(mt.run_python(python, ["-c", "import mypkg; print(mypkg.double(21))"],
                                       os.path.dirname(package), ["-S", "-B"]), "42\n")
        return mt.files_under(self.destdir, ".pyc")

    def test_quick_start(self):
        files = quick_start_files()
        self.assertEqual(sorted(files), ["meson.build", "mypkg/meson.build"])
        self.write_project(files)
        mt.install(self.build, self.env, destdir=self.destdir, destdir_option=True)
        commands = mt.run([mt.tool("ninja"), "-C", self.build, "-t", "commands"], self.env).stdout
        match = re.search(r"compile -q --python (\S+)", commands)  # the interpreter Meson chose
        self.assertTrue(match, commands)
        self.check_and_run(match.group(1))
        mt.uninstall(self.build, self.env)
        self.assertFalse(os.path.exists(self.destdir), mt.files_under(self.destdir))

    def test_install_time_form(self):
        files = section_files("The install-time form: pycemit compiles the installed tree")
        self.assertEqual(sorted(files), ["mypkg/meson.build"])
        self.write_project(dict(quick_start_files(), **files))
        result = mt.install(self.build, self.env, destdir=self.destdir, destdir_option=True)

        # The install script Meson ran is pycemit itself, with the run-time
        # package directory (the interpreter is the one Meson chose).
        manifest = os.path.join(self.build, "mypkg", "mypkg-bytecode.json")
        scripts = mt.install_script_commands(result.output)
        self.assertEqual(len(scripts), 1, result.output)
        match = re.fullmatch(re.escape(self.pycemit + " compile -q --root-env DESTDIR --python ") +
                             r"(\S+) -O 0 -O 1 --manifest " +
                             re.escape(manifest + " " + self.package_dir(self.env)), scripts[0])
        self.assertTrue(match, scripts[0])
        self.assertEqual(mt.run_target_command(self.build, self.env, "uninstall-bytecode"),
                         [self.pycemit, "remove", manifest])
        staged = self.check_and_run(match.group(1))

        # A second install: Meson copies the sources again, pycemit rewrites no pyc.
        before = mt.snapshot(staged)
        mt.install(self.build, self.env, destdir=self.destdir, destdir_option=True)
        self.assertEqual(mt.snapshot(mt.files_under(self.destdir, ".pyc")), before)

        mt.ninja(self.build, self.env, "uninstall-bytecode")
        self.assertEqual(mt.files_under(self.destdir, ".pyc"), [])
        self.assertEqual(mt.dirs_named(self.destdir, "__pycache__"), [])
        mt.ninja(self.build, self.env, "uninstall")
        self.assertEqual(mt.files_under(self.destdir), [])

        # Meson removes only the directories its last install created, so the
        # two steps leave nothing at all after an install into a fresh DESTDIR.
        fresh = self.destdir + " 2"
        mt.install(self.build, self.env, destdir=fresh, destdir_option=True)
        self.assertEqual(len(mt.files_under(fresh, ".pyc")), len(staged))
        mt.ninja(self.build, self.env, "uninstall-bytecode")
        mt.ninja(self.build, self.env, "uninstall")
        self.assertFalse(os.path.exists(fresh), mt.files_under(fresh))


if __name__ == "__main__":
    unittest.main(verbosity=2)
