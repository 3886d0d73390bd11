"""docs/bazel.md's setup works as written, in an empty project outside this repository.

The starlark code blocks of the guide that start with a `# <file name>` comment are the
project: the BUILD.bazel at the top of the guide, the local Python toolchain
(`toolchain/BUILD.bazel`, which must also be examples/bazel/toolchain/BUILD.bazel word for
word), and the files of the setup section for the Bazel under test: "Bazel 7 and later
(bzlmod)" (MODULE.bazel) for Bazel 7 and later, "WORKSPACE (Bazel 4.2.3 and later)"
(WORKSPACE, .bazelrc) for Bazel 4. Only `/path/to/pycemit` is replaced, by a copy of this
repository's Bazel files. The project gets the two modules its BUILD.bazel names
(lib/x.py, main/app.py), is built with `bazel build //...` (offline, --batch, its own
output base) and its binary is run as `bazel-bin/app` with no `python` on PATH: the
interpreter loads lib/x.py from the pyc py_bytecode wrote, at level 0 and, under -O, 1.

pycemit's own C++ build is shared with test_bazel.py through
$PYCEMIT_CACHE_DIR/bazel-tool-cache; the PyBytecode actions never use that cache
(--modify_execution_info=PyBytecode=+no-cache), so they run here.
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import bazel_testlib as blib  # noqa: E402

DOC = os.path.join(blib.REPO, "docs", "bazel.md")
EXAMPLE_TOOLCHAIN = os.path.join(blib.REPO, "examples", "bazel", "toolchain", "BUILD.bazel")
BZLMOD_SECTION = "Bazel 7 and later (bzlmod)"
WORKSPACE_SECTION = "WORKSPACE (Bazel 4.2.3 and later)"
TOOLCHAIN_SECTION = "A local Python toolchain"

SOURCES = {
    "lib/__init__.py": '"""lib."""\n',
    "lib/x.py": 'def double(n):\n    """Twice n."""\n    assert n is not None\n    return 2 * n\n',
    "main/app.py": "import lib.x\n\nprint(lib.x.double(21))\n",
}


def doc_text():
    with open(DOC, encoding="utf-8") as f:
        return f.read()


def named_blocks(text):
    """{file name: text} of the starlark blocks in `text` whose first line is `# <name>`."""
    files = {}
    for block in re.findall(r"```(?:starlark|python)?\n(.*?)```", text, re.S):
        first = block.partition("\n")[0]
        name = re.fullmatch(r"# (\S+)", first.strip())
        if name:
            files[name.group(1)] = block
    return files


def section(text, title):
    """The text of the `###` section `title` (up to the next ## or ### heading)."""
    parts = text.split("\n### %s\n" % title, 1)
    if len(parts) != 2:
        raise AssertionError("docs/bazel.md has no section '### %s'" % title)
    return re.split(r"\n##+ ", parts[1], 1)[0]


def project_files(bzlmod):
    """{file name: text}: the guide's project for bzlmod or WORKSPACE mode."""
    text = doc_text()
    files = named_blocks(text.split("\n## Setup\n", 1)[0])
    files.update(named_blocks(section(text, TOOLCHAIN_SECTION)))
    files.update(named_blocks(section(text, BZLMOD_SECTION if bzlmod else WORKSPACE_SECTION)))
    return files


class BazelDocsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bazel = blib.find_bazel()
        cls.bzlmod = blib.uses_bzlmod(cls.bazel[1])
        cls.tmp = tempfile.mkdtemp(prefix="pycemit-bazel-docs-")
        try:
            cls.set_up_project()
        except BaseException:
            cls.cleanup()
            raise

    @classmethod
    def cleanup(cls):
        if blib.keep_temporary_files():
            print("kept %s" % cls.tmp, file=sys.stderr)
        else:
            blib.make_writable_and_remove(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        # The fixture's last check, after every test whatever their order:
        # --batch builds leave no Bazel server or persistent worker behind.
        left = blib.processes_mentioning(cls.tmp)
        cls.cleanup()
        if left:
            raise AssertionError("processes outlived the Bazel builds: %r" % left)

    @classmethod
    def set_up_project(cls):
        cls.logs = os.path.join(cls.tmp, "logs")
        os.makedirs(cls.logs)
        checkout = blib.snapshot_checkout(os.path.join(cls.tmp, "pycemit"))
        cls.project = os.path.join(cls.tmp, "my-project")  # Bazel refuses paths with spaces
        cls.files = project_files(cls.bzlmod)
        for name, text in list(cls.files.items()) + list(SOURCES.items()):
            path = os.path.join(cls.project, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text.replace("/path/to/pycemit", checkout))
        cache_root = os.environ.get("PYCEMIT_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "pycemit-test-cache")
        cls.runner = blib.Bazel(cls.bazel, cls.project, os.path.join(cls.tmp, "output-base"), cls.logs)
        # As a user runs it (with the convenience symlinks), plus the shared tool cache and
        # the tests' tool flags (so that the cache has the tool).
        log = os.path.join(cls.logs, "execution.json")
        cls.result = cls.runner.run("build", ["--disk_cache=" + os.path.join(cache_root, "bazel-tool-cache"),
                                              "--modify_execution_info=%s=+no-cache" % blib.MNEMONIC,
                                              "--execution_log_json_file=" + log, "--color=no", "--curses=no"]
                                    + blib.TOOL_FLAGS + ["//..."])
        cls.spawns = blib.pyc_spawns(blib.read_execution_log(log))
        # The main repository in runfiles: no workspace(name = ...) in the guide's WORKSPACE.
        cls.main_repo = blib.main_repository(cls.bazel[1], "__main__")

    def test_the_files_of_the_setup(self):
        expected = {"BUILD.bazel", "toolchain/BUILD.bazel"} | ({"MODULE.bazel"} if self.bzlmod
                                                              else {"WORKSPACE", ".bazelrc"})
        self.assertEqual(set(self.files), expected)
        with open(EXAMPLE_TOOLCHAIN) as f:
            self.assertEqual(self.files["toolchain/BUILD.bazel"].partition("\n")[2], f.read(),
                             "the guide's toolchain/BUILD.bazel is not examples/bazel/toolchain/BUILD.bazel")

    def run_app(self, optimize):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update({"PYTHONVERBOSE": "1", "PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"})
        if optimize:
            env["PYTHONOPTIMIZE"] = str(optimize)
        result = subprocess.run([os.path.join(self.project, "bazel-bin", "app")], env=env, capture_output=True,
                                text=True, timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertEqual(result.stdout, "42\n")
        return blib.load_trace(result.stderr)

    def test_the_pyc_actions_ran(self):
        self.assertEqual(len(self.spawns), 2)  # lib/__init__.py, lib/x.py: one action each
        self.assertEqual([s for s in self.spawns if blib.cache_hit(s)], [])
        # In the persistent worker (Bazel 4: thanks to the .bazelrc of the guide's WORKSPACE setup).
        self.assertEqual({s["runner"] for s in self.spawns}, {"worker"})

    def test_the_binary_runs_on_its_pycs(self):
        python_version = re.search(r'python_version = "(3\.\d+)"', self.files["BUILD.bazel"]).group(1)
        tag = "cpython-" + python_version.replace(".", "")
        # The launcher finds its runfiles through the path it was started by (bazel-bin/...).
        runfiles = os.path.join(self.project, "bazel-bin", "app.runfiles")
        for level, suffix in ((0, ""), (1, ".opt-1")):
            loaded, problems = self.run_app(level)
            self.assertEqual(problems, [])
            pyc = os.path.join(runfiles, self.main_repo, "lib", "__pycache__", "x.%s%s.pyc" % (tag, suffix))
            self.assertIn(pyc, loaded)


if __name__ == "__main__":
    unittest.main(verbosity=2)
