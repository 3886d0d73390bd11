"""docs/meson.md's setup works as written, in a project outside this repository.

The `meson` code blocks of its "Quick start" section (each starting with a
`# <file name>` comment) are written to an empty project with a two-module
package, and the section's `sh` block is run line by line as written (in the
project's directory; `$PWD` is that directory, `meson` the Meson under test,
with pycemit on PATH; the only edit is the one the block's comment names:
Meson 1.0 and 1.1 get no -Dpython.bytecompile=-1). So the project is configured
with --prefix /usr, built, installed with --destdir "$PWD/stage" (never into
/usr) and checked like the example (test_meson.py): pycs where the interpreter
looks, final paths embedded, nothing of DESTDIR, build or source directory in
them, imported from the staged tree; then `ninja -C build uninstall` removes
everything. With Meson 1.2 and later, the same project configured without
-Dpython.bytecompile=-1 fails with the guard's message.

Then the same project with the `# mypkg/meson.build` of the "install-time form"
section instead (pycemit itself as the install script, with --root-env DESTDIR,
and `pycemit remove` as uninstall-bytecode), run with that section's commands:
checked the same way; installed again (nothing rewritten); its uninstall lines
leave no file; and, as its comment says, after an install into a fresh DESTDIR
they leave no directory either.
"""
import os
import re
import shlex
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import meson_testlib as mt  # noqa: E402

DOC = os.path.join(mt.REPO, "docs", "meson.md")
QUICK_START = "Quick start"
INSTALL_TIME = "The install-time form: pycemit compiles the installed tree"
BYTECOMPILE_OFF = "-Dpython.bytecompile=-1"


def section(title):
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    parts = text.split("\n## %s\n" % title, 1)
    if len(parts) != 2:
        raise AssertionError("docs/meson.md has no section '## %s'" % title)
    return parts[1].split("\n## ", 1)[0]


def section_files(title):
    """{file name: text} from the meson code blocks of section `title`."""
    files = {}
    for block in re.findall(r"```meson\n(.*?)```", section(title), re.S):
        first, _, rest = block.partition("\n")
        name = re.fullmatch(r"# (\S+)", first)
        if name:
            files[name.group(1)] = block
    return files


def section_commands(title):
    """The commands of the section's sh block: [argument list], comments dropped."""
    blocks = re.findall(r"```sh\n(.*?)```", section(title), re.S)
    if len(blocks) != 1:
        raise AssertionError("section '%s' has %d sh blocks, not one" % (title, len(blocks)))
    commands = []
    for line in blocks[0].splitlines():
        words = shlex.split(line, comments=True)
        if words:
            commands.append(words)
    return commands


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
        self.build = os.path.join(self.source, "build")
        self.destdir = os.path.join(self.source, "stage")

    def write_project(self, files):
        for name, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(self.source, name)), exist_ok=True)
            with open(os.path.join(self.source, name), "w") as f:
                f.write(text)
        with open(os.path.join(self.source, "mypkg", "__init__.py"), "w") as f:
            f.write('"""mypkg."""\nfrom mypkg.util import double\n')
        with open(os.path.join(self.source, "mypkg", "util.py"), "w") as f:
            f.write('def double(x):\n    """Twice x."""\n    assert x is not None\n    return 2 * x\n')

    def run_command(self, words, stage=None, check=True):
        """Runs one command of the guide, in the project directory."""
        words = [w.replace("$PWD", self.source) for w in words]
        if stage:
            words = [w.replace(self.destdir, stage) for w in words]
        if words[0] == "meson" and "setup" in words and not mt.has_builtin_bytecompile():
            words = [w for w in words if w != BYTECOMPILE_OFF]  # as the line's comment says
        if words[0] in ("meson", "ninja"):
            words[0] = mt.tool(words[0])
        return mt.run(words, self.env, cwd=self.source, check=check)

    def commands(self, title, first_word, *args):
        """The section's commands whose first words are `first_word args`."""
        found = [c for c in section_commands(title) if c[:1 + len(args)] == [first_word] + list(args)]
        self.assertTrue(found, "no '%s %s' command in section %s" % (first_word, " ".join(args), title))
        return found

    def check_staged(self, python, destdir):
        """Checks the staged pycs and imports them from the staged tree (the final prefix is
        /usr: nothing is deployed there). Returns the staged pycs."""
        expected = self.check_installed(python, self.env, "pycache", [0, 1], "checked-hash", destdir)
        package = mt.staged(destdir, self.package_dir(self.env))
        staged = {mt.staged(destdir, s): {level: mt.staged(destdir, p) for level, p in by_level.items()}
                  for s, by_level in expected.items()}
        self.check_imports(python, package, staged, [0, 1], "pycache")
        self.assertEqual(mt.run_python(python, ["-c", "import mypkg; print(mypkg.double(21))"],
                                       os.path.dirname(package), ["-S", "-B"]), "42\n")
        return mt.files_under(destdir, ".pyc")

    def interpreter(self):
        """The interpreter Meson chose (from the compile command Ninja runs)."""
        commands = mt.run([mt.tool("ninja"), "-C", self.build, "-t", "commands"], self.env).stdout
        match = re.search(r"compile -q --python (\S+)", commands)
        self.assertTrue(match, commands)
        return match.group(1)

    def test_quick_start(self):
        files = section_files(QUICK_START)
        self.assertEqual(sorted(files), ["meson.build", "mypkg/meson.build"])
        self.write_project(files)
        setup, install, uninstall = section_commands(QUICK_START)
        self.assertEqual(setup[:2] + install[:2] + uninstall[:1], ["meson", "setup", "meson", "install", "ninja"])
        self.run_command(setup)
        self.run_command(install)
        self.check_staged(self.interpreter(), self.destdir)
        self.run_command(uninstall)
        self.assertFalse(os.path.exists(self.destdir), mt.files_under(self.destdir))

    def test_quick_start_guard(self):
        """Meson 1.2 and later: Meson's default python.bytecompile=0 is refused, with the fix."""
        if not mt.has_builtin_bytecompile():
            self.assertIn(BYTECOMPILE_OFF, self.commands(QUICK_START, "meson", "setup")[0])
            return  # Meson 1.0.1 has no python.bytecompile: nothing to refuse
        self.write_project(section_files(QUICK_START))
        setup = [w for w in self.commands(QUICK_START, "meson", "setup")[0] if w != BYTECOMPILE_OFF]
        result = self.run_command(setup, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("pycemit writes the pycs: configure with -Dpython.bytecompile=-1", result.output)

    def test_install_time_form(self):
        files = section_files(INSTALL_TIME)
        self.assertEqual(sorted(files), ["mypkg/meson.build"])
        self.write_project(dict(section_files(QUICK_START), **files))
        (setup,) = self.commands(INSTALL_TIME, "meson", "setup")
        (install,) = self.commands(INSTALL_TIME, "meson", "install")
        uninstall = self.commands(INSTALL_TIME, "ninja")
        self.assertEqual([c[-1] for c in uninstall], ["uninstall-bytecode", "uninstall"])
        self.run_command(setup)
        result = self.run_command(install)

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
        staged = self.check_staged(match.group(1), self.destdir)

        # A second install: Meson copies the sources again, pycemit rewrites no pyc.
        before = mt.snapshot(staged)
        self.run_command(install)
        self.assertEqual(mt.snapshot(mt.files_under(self.destdir, ".pyc")), before)

        self.run_command(uninstall[0])
        self.assertEqual(mt.files_under(self.destdir, ".pyc"), [])
        self.assertEqual(mt.dirs_named(self.destdir, "__pycache__"), [])
        self.run_command(uninstall[1])
        self.assertEqual(mt.files_under(self.destdir), [])
        # Meson removed none of the directories: its last install created none.
        self.assertTrue(os.path.isdir(mt.staged(self.destdir, self.package_dir(self.env))))

        # After an install into a fresh DESTDIR the two steps leave nothing at all.
        fresh = self.destdir + " 2"
        self.run_command(install, stage=fresh)
        self.assertEqual(len(mt.files_under(fresh, ".pyc")), len(staged))
        for command in uninstall:
            self.run_command(command)
        self.assertFalse(os.path.exists(fresh), mt.files_under(fresh))


if __name__ == "__main__":
    unittest.main(verbosity=2)
