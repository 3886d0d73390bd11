"""docs/cmake.md's first example works as written, in an empty project.

The guide's `# CMakeLists.txt` block is written to an empty project with the two
sources it names (src/mypkg/__init__.py, src/mypkg/util.py), and the `sh` block
after it is run line by line as written, in the project's directory with the
cmake under test; the only substitution is /opt/pycemit, where the guide says the
PycEmit package is installed, by a temporary prefix that holds the package of the
pycemit under test. Then: no CMake warning at configure time (policies, the
`3.20...4.3` range, deprecations); the staged pycs are exactly the files the
interpreter's cache_from_source names for levels 0, 1 and 2, embed the final
/usr path, pass verify_pycs.py and are imported from the staged tree.
"""
import os
import re
import shlex
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import cmake_testlib as cmk  # noqa: E402
import pycemit_testlib as lib  # noqa: E402

DOC = os.path.join(cmk.REPO, "docs", "cmake.md")
SOURCES = {
    "src/mypkg/__init__.py": '"""mypkg."""\nfrom mypkg.util import double\n',
    "src/mypkg/util.py": 'def double(x):\n    """Twice x."""\n    assert x is not None\n    return 2 * x\n',
}
MODULES = ["mypkg", "mypkg.util"]
LEVELS = [0, 1, 2]


def first_example():
    """(CMakeLists.txt text, [commands]) from the guide's text before its first section."""
    with open(DOC, encoding="utf-8") as f:
        head = f.read().split("\n## ", 1)[0]
    cmake = re.findall(r"```cmake\n(# CMakeLists\.txt\n.*?)```", head, re.S)
    sh = re.findall(r"```sh\n(.*?)```", head, re.S)
    if len(cmake) != 1 or len(sh) != 1:
        raise AssertionError("docs/cmake.md: expected one '# CMakeLists.txt' block and one sh block "
                             "before the first section")
    commands = [shlex.split(line, comments=True) for line in sh[0].splitlines()]
    return cmake[0], [c for c in commands if c]


class CMakeDocsTest(unittest.TestCase):
    def test_first_example(self):
        text, commands = first_example()
        with tempfile.TemporaryDirectory(prefix="pycemit cmake docs ") as tmp:
            prefix = os.path.join(tmp, "pycemit prefix")
            cmk.install_package(prefix)
            project = os.path.join(tmp, "my project")
            for rel, content in dict(SOURCES, **{"CMakeLists.txt": text}).items():
                os.makedirs(os.path.dirname(os.path.join(project, rel)), exist_ok=True)
                with open(os.path.join(project, rel), "w") as f:
                    f.write(content)

            outputs = []
            for words in commands:
                words = [w.replace("/opt/pycemit", prefix).replace("$PWD", project) for w in words]
                env = {}
                while "=" in words[0] and re.match(r"[A-Z_]+=", words[0]):
                    name, _, value = words.pop(0).partition("=")
                    env[name] = value
                self.assertEqual(words[0], "cmake", words)
                words[0] = cmk.tool("cmake")
                outputs.append(cmk.run(words, cwd=project, env=env).output)
            self.assertEqual(cmk.cmake_warnings(outputs[0]), [], outputs[0])

            with open(os.path.join(project, "build", "CMakeCache.txt")) as f:
                # FindPython keeps the interpreter it found in an internal entry.
                python = re.search(r"^_?Python3_EXECUTABLE:\w+=(.+)$", f.read(), re.M).group(1)
            major, minor = lib.python_version(python)[:2]
            final = "/usr/lib/python%d.%d/site-packages" % (major, minor)
            stage = os.path.join(project, "stage")
            staged_root = stage + final
            finals = [final + "/" + rel[len("src/"):] for rel in SOURCES]
            expected = lib.expected_paths(python, finals, LEVELS)
            staged = {f: {level: stage + p for level, p in by_level.items()} for f, by_level in expected.items()}
            self.assertEqual(cmk.pycs_in(stage), sorted(p for by_level in staged.values() for p in by_level.values()))
            info = cmk.pyc_info(python, cmk.pycs_in(stage))
            for source, by_level in staged.items():
                for pyc in by_level.values():
                    self.assertEqual(info[pyc]["filenames"], [source])
            lib.verify(python, [{"source": stage + source, "pyc": pyc, "optimize": level, "mode": "checked-hash",
                                 "embedded": source}
                                for source, by_level in staged.items() for level, pyc in by_level.items()])
            for level in LEVELS:
                files, loaded, stale = lib.imported_from(python, staged_root, MODULES, ["-O"] * level)
                self.assertEqual(stale, [])
                for module, file in files.items():
                    self.assertIn(staged[file[len(stage):]][level], loaded, module)


if __name__ == "__main__":
    unittest.main(verbosity=2)
