"""docs/meson.md's quick start works as written, in a project outside this repository.

The two `meson` code blocks of its "Quick start" section (each starting with a
`# <file name>` comment) are written to a fresh project with a two-module
package, which is configured with Debian's Meson 1.0.1 (pycemit on PATH, the
default interpreter of Meson's python module), built, installed with DESTDIR and
checked like the example (test_meson.py): pycs where the interpreter looks, final
paths embedded, nothing of DESTDIR, build or source directory in them, imported
from their final place; then `ninja uninstall` removes everything.
"""
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import meson_testlib as mt  # noqa: E402

DOC = os.path.join(mt.REPO, "docs", "meson.md")


def quick_start_files():
    """{file name: text} from the quick start's meson code blocks."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    section = text.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    files = {}
    for block in re.findall(r"```meson\n(.*?)```", section, re.S):
        first, _, rest = block.partition("\n")
        name = re.fullmatch(r"# (\S+)", first)
        if name:
            files[name.group(1)] = block
    return files


class MesonDocsQuickStartTest(mt.ExampleChecks, unittest.TestCase):
    PACKAGE = "mypkg"
    SOURCES = ["__init__.py", "util.py"]
    MODULES = ["mypkg", "mypkg.util"]

    def test_quick_start(self):
        mt.tool("meson")
        mt.tool("ninja")
        files = quick_start_files()
        self.assertEqual(sorted(files), ["meson.build", "mypkg/meson.build"])

        tmp = tempfile.TemporaryDirectory(prefix="pycemit meson docs ")
        self.addCleanup(tmp.cleanup)
        env = mt.env(path_first=mt.tool_dir(tmp.name))
        self.source = os.path.join(tmp.name, "my project")
        self.build = os.path.join(tmp.name, "build dir")
        destdir = os.path.join(tmp.name, "stage dir")
        final_root = os.path.join(tmp.name, "final root")
        for name, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(self.source, name)), exist_ok=True)
            with open(os.path.join(self.source, name), "w") as f:
                f.write(text)
        with open(os.path.join(self.source, "mypkg", "__init__.py"), "w") as f:
            f.write('"""mypkg."""\nfrom mypkg.util import double\n')
        with open(os.path.join(self.source, "mypkg", "util.py"), "w") as f:
            f.write('def double(x):\n    """Twice x."""\n    assert x is not None\n    return 2 * x\n')

        mt.setup(self.source, self.build, os.path.join(final_root, "usr"), {}, env)
        mt.install(self.build, env, destdir=destdir)
        self.assertFalse(os.path.exists(final_root))
        python = self.meson_python(env)
        expected = self.check_installed(python, env, "pycache", [0, 1], "checked-hash", destdir)
        mt.deploy(destdir, final_root)
        package = self.package_dir(env)
        self.check_imports(python, package, expected, [0, 1], "pycache")
        self.assertEqual(mt.run_python(python, ["-c", "import mypkg; print(mypkg.double(21))"],
                                       os.path.dirname(package), ["-S", "-B"]), "42\n")
        mt.uninstall(self.build, env)
        self.assertFalse(os.path.exists(destdir), mt.files_under(destdir))

    def meson_python(self, env):
        """The interpreter Meson's find_installation() chose (the pycemit command line names it)."""
        commands = mt.run([mt.tool("ninja"), "-C", self.build, "-t", "commands"], env).stdout
        match = re.search(r"compile -q --python (\S+)", commands)
        self.assertTrue(match, commands)
        return match.group(1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
