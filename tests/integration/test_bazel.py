"""The Bazel rules (bazel-rules/) build the example workspace (examples/bazel/) reproducibly.

With the real `bazel` ($PYCEMIT_BAZEL, else the one on PATH), offline: Bazel 4 to 6 in
WORKSPACE mode (Debian 12's 4.2.3), Bazel 7 and later with bzlmod (MODULE.bazel; Debian
sid's 7.7.1 through /opt/pycemit-test-tools/bin/bazel, with --noenable_workspace and the
modules Debian ships as overrides). The example is used as shipped: rules_python's
py_library/py_binary, its own toolchain (toolchain/BUILD.bazel: /usr/bin/python3). Two
copies of this repository's Bazel files at different paths ("checkouts"), each building
examples/bazel/ with its own --output_base and one shared --disk_cache:

  * the example builds (pycemit itself by cc_binary; py_library, py_binary, py_bytecode);
  * both checkouts give byte-identical pycs, and the second one's PyBytecode actions are all
    served from the disk cache (execution log: remoteCacheHit in Bazel 4, cacheHit in 7);
  * the pycs pass verify_pycs.py inside the interpreter (header, source hash, code object,
    embedded path = workspace-relative path or embed_prefix + it, never a bazel-out path),
    equal what the CMake-built pycemit writes for the same sources, and are used: the
    py_binary's launcher, run as it is with no `python` on PATH (its shebang is the
    toolchain's stub_shebang), loads them with -v (and the .opt-1 ones under -O), imports
    with --check-hash-based-pycs always accept them, a sourceless tree imports;
  * on_error = "skip" leaves an empty placeholder for a Python 2 file, which the
    interpreter ignores;
  * persistent worker, standalone and sandboxed actions give identical bytes;
  * a wrong python_version fails the build and names the cache tag; an interpreter given
    as a label (py_runtime with in-build files, from a new_local_repository) is an action
    input and runs sandboxed;
  * no Bazel or worker process is left running.

Each Bazel start is slow, so one class sets up the builds and the tests share them.
PYCEMIT_BAZEL_KEEP=1 keeps the temporary checkouts, output bases and Bazel logs.
pycemit's C++ build is also cached across runs in $PYCEMIT_CACHE_DIR/bazel-tool-cache (a
separate --disk_cache used only to build the tool, never for the pyc actions).
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import bazel_testlib as blib  # noqa: E402
import pycemit_testlib as lib  # noqa: E402

WORKSPACE_NAME = "pycemit_example"

# Sources of the example compiled by its py_bytecode targets, relative to the workspace
# (generated ones relative to bazel-bin): target -> (levels, layout, embed prefix, sources).
GREETING = ["greeting/__init__.py", "greeting/hello.py", "greeting/_version.py", "settings.py"]
VENDORED = ["vendored/__init__.py", "vendored/modern.py"]
GENERATED = {"greeting/_version.py"}

# A package added to checkout A once the comparisons are done (it must not be part of //...).
EXTRA_BUILD = '''load("@pycemit//bazel-rules:defs.bzl", "py_bytecode")

# A python_version that is not the interpreter's: the build must fail.
py_bytecode(
    name = "wrong_version",
    srcs = ["mod.py"],
    python_version = "{wrong}",
)

py_bytecode(
    name = "wrong_version_skip",
    srcs = ["mod.py"],
    on_error = "skip",
    python_version = "{wrong}",
)

# An interpreter given as a label, with its standard library's top level as runtime files:
# all of it is an action input.
py_runtime(
    name = "runtime",
    files = ["@test_python//:stdlib"],
    interpreter = "@test_python//:{interpreter}",
    python_version = "PY3",
)

py_bytecode(
    name = "hermetic",
    srcs = ["mod.py"],
    interpreter = ":runtime",
    optimize = [0, 2],
    python_version = "{version}",
)
'''

# The PyBytecode actions of a build run (no disk or remote cache for them).
NO_PYC_CACHE = ["--modify_execution_info=%s=+no-cache" % blib.MNEMONIC]


def example_spawns(spawns):
    """The PyBytecode spawns of the example's own targets (not of pycemit_test_tool)."""
    return [s for s in blib.pyc_spawns(spawns)
            if not any("/pycemit_test_tool/" in o for o in s.get("listedOutputs", []))]


# Appended to WORKSPACE (Bazel 4) or MODULE.bazel (bzlmod, with the use_repo_rule line).
TEST_PYTHON_REPO_BZLMOD = '''
new_local_repository = use_repo_rule("@bazel_tools//tools/build_defs/repo:local.bzl", "new_local_repository")
'''
TEST_PYTHON_REPO = '''
new_local_repository(
    name = "test_python",
    path = {prefix},
    build_file_content = """
exports_files(["{interpreter}"])
filegroup(
    name = "stdlib",
    srcs = glob(["lib/python{version}/*.py"]),
    visibility = ["//visibility:public"],
)
""",
)
'''

# Builds pycemit for the exec configuration, as every py_bytecode does (a genrule's tools
# would be the host configuration in Bazel 4), so that it can use the cross-run tool cache.
# Its one pyc action is in this package, away from the example's bin/_pycemit.
TOOL_BUILD = '''load("@pycemit//bazel-rules:defs.bzl", "py_bytecode")
load("//:python.bzl", "PYTHON_VERSION")

py_bytecode(
    name = "tool",
    srcs = ["warm.py"],
    python_version = PYTHON_VERSION,
)
'''


class BazelExampleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bazel = blib.find_bazel()
        cls.bzlmod = blib.uses_bzlmod(cls.bazel[1])
        cls.main_repo = blib.main_repository(cls.bazel[1], WORKSPACE_NAME)
        cls.tmp = tempfile.mkdtemp(prefix="pycemit-bazel-")
        try:
            cls.set_up_builds()
        except BaseException:
            cls.cleanup()
            raise

    @classmethod
    def cleanup(cls):
        if blib.keep_temporary_files():
            print("kept %s (bazel logs in logs/)" % cls.tmp, file=sys.stderr)
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
    def set_up_builds(cls):
        tmp = cls.tmp
        cls.logs = os.path.join(tmp, "logs")
        os.makedirs(cls.logs)
        cls.python, cls.version = blib.EXAMPLE_PYTHON, blib.python_version_of(blib.EXAMPLE_PYTHON)
        cls.tag = "cpython-" + cls.version.replace(".", "")

        # Two checkouts at different paths (and depths), made from one snapshot.
        checkout_a = blib.snapshot_checkout(os.path.join(tmp, "a", "pycemit"))
        checkout_b = os.path.join(tmp, "elsewhere", "second", "pycemit")
        shutil.copytree(checkout_a, checkout_b, symlinks=True)
        cls.example_a = os.path.join(checkout_a, "examples", "bazel")
        cls.example_b = os.path.join(checkout_b, "examples", "bazel")
        for example in (cls.example_a, cls.example_b):
            blib.configure_example(example, cls.version)
            os.makedirs(os.path.join(example, "pycemit_test_tool"))
            with open(os.path.join(example, "pycemit_test_tool", "BUILD.bazel"), "w") as f:
                f.write(TOOL_BUILD)
            with open(os.path.join(example, "pycemit_test_tool", "warm.py"), "w") as f:
                f.write("WARM = True\n")

        cls.disk_cache = os.path.join(tmp, "disk-cache")
        cache_root = os.environ.get("PYCEMIT_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "pycemit-test-cache")
        cls.tool_cache = os.path.join(cache_root, "bazel-tool-cache")
        cls.a = blib.Bazel(cls.bazel, cls.example_a, os.path.join(tmp, "output-base-a"), cls.logs)
        cls.b = blib.Bazel(cls.bazel, cls.example_b, os.path.join(tmp, "output-base-b"), cls.logs)

        # pycemit's C++ through the cross-run tool cache (its one pyc action never cached), then
        # the example's cache starts as a copy of it: both checkouts find the tool there, and
        # nothing of the example's pycs. (Bazel 7 does not record disk cache hits in its local
        # action cache, so every later build of checkout A keeps that cache too, and the
        # builds that must run the PyBytecode actions say no-cache for them.)
        targets = ["//..."]
        cls.a.build(["//pycemit_test_tool:tool"], blib.tool_cache_flags(cls.tool_cache) + NO_PYC_CACHE)
        shutil.copytree(cls.tool_cache, cls.disk_cache, ignore=shutil.ignore_patterns("tmp"))
        example_flags = ["--disk_cache=" + cls.disk_cache]
        cls.rerun_flags = example_flags + NO_PYC_CACHE
        cls.result_a, cls.spawns_a = cls.a.build(targets, example_flags, log_name="a")
        cls.result_b, cls.spawns_b = cls.b.build(targets, example_flags, log_name="b")

        cls.bin_a = cls.a.bin_dir(WORKSPACE_NAME)
        cls.bin_b = cls.b.bin_dir(WORKSPACE_NAME)
        cls.pycs_a = os.path.join(cls.bin_a, "_pycemit")
        cls.digests_a = blib.digests(cls.pycs_a)

    # -- the build, two checkouts, the disk cache ------------------------------------------

    def expected_outputs(self):
        """Every pyc the example's py_bytecode targets declare, relative to bin/_pycemit."""
        outputs = set()
        for src in GREETING:
            d, stem = os.path.dirname(src), os.path.basename(src)[:-3]
            outputs.add(os.path.join("greeting_pycs", d, "__pycache__", "%s.%s.pyc" % (stem, self.tag)))
            outputs.add(os.path.join("greeting_pycs", d, "__pycache__", "%s.%s.opt-1.pyc" % (stem, self.tag)))
            outputs.add(os.path.join("greeting_sourceless", d, stem + ".pyc"))
        for src in VENDORED + ["vendored/legacy.py"]:
            d, stem = os.path.dirname(src), os.path.basename(src)[:-3]
            outputs.add(os.path.join("vendored_pycs", d, "__pycache__", "%s.%s.pyc" % (stem, self.tag)))
        return outputs

    def test_builds_every_declared_pyc(self):
        self.assertEqual(set(self.digests_a), self.expected_outputs())
        spawns = example_spawns(self.spawns_a)
        self.assertEqual(len(spawns), len(GREETING) * 2 + len(VENDORED) + 1)
        self.assertTrue(all(not blib.cache_hit(s) for s in spawns), "first build must compile")
        # Every action ran in a persistent worker (the default strategy), on_error = "skip" ones too.
        self.assertEqual({s["runner"] for s in spawns}, {"worker"})
        self.assertIn(" worker", self.result_a.stderr)

    def test_two_checkouts_give_identical_pycs(self):
        digests_b = blib.digests(os.path.join(self.bin_b, "_pycemit"))
        self.assertEqual(digests_b, self.digests_a)
        self.assertTrue(self.example_a != self.example_b)

    def test_second_checkout_served_from_disk_cache(self):
        spawns = example_spawns(self.spawns_b)
        self.assertEqual(len(spawns), len(example_spawns(self.spawns_a)))
        misses = [s["listedOutputs"] for s in spawns if not blib.cache_hit(s)]
        self.assertEqual(misses, [], "PyBytecode actions of checkout B not served by the disk cache")
        # Bazel 4 counts disk cache hits as "remote cache hit" in its summary, Bazel 7 as
        # "disk cache hit".
        wording = "disk cache hit" if self.bazel[1] >= (7,) else "remote cache hit"
        self.assertRegex(self.result_b.stderr, r"\d+ %s" % wording)

    # -- the pycs are right -----------------------------------------------------------------

    def source_of(self, rel):
        return os.path.join(self.bin_a if rel in GENERATED else self.example_a, rel)

    def test_pycs_verify_inside_the_interpreter(self):
        jobs = []
        for rel in GREETING:
            d, stem = os.path.dirname(rel), os.path.basename(rel)[:-3]
            for level, suffix in ((0, ""), (1, ".opt-1")):
                jobs.append({"source": self.source_of(rel), "optimize": level, "mode": "checked-hash",
                             "pyc": os.path.join(self.pycs_a, "greeting_pycs", d, "__pycache__",
                                                 "%s.%s%s.pyc" % (stem, self.tag, suffix)),
                             "embedded": rel, "same_body_as": None})
            jobs.append({"source": self.source_of(rel), "optimize": 2, "mode": "checked-hash",
                         "pyc": os.path.join(self.pycs_a, "greeting_sourceless", d, stem + ".pyc"),
                         "embedded": "/opt/app/" + rel, "same_body_as": None})
        for rel in VENDORED:
            d, stem = os.path.dirname(rel), os.path.basename(rel)[:-3]
            jobs.append({"source": self.source_of(rel), "optimize": 0, "mode": "checked-hash",
                         "pyc": os.path.join(self.pycs_a, "vendored_pycs", d, "__pycache__",
                                             "%s.%s.pyc" % (stem, self.tag)),
                         "embedded": rel, "same_body_as": None})
        out = lib.verify(self.python, jobs)
        self.assertIn("ok %d" % len(jobs), out)

    def test_same_bytes_as_the_cmake_built_tool(self):
        """The Bazel-built pycemit in a Bazel action writes what `pycemit compile` writes."""
        out = os.path.join(self.tmp, "cmake-tool")
        sources = [rel for rel in GREETING if rel not in GENERATED]
        lib.run(["compile", "-q", "--python", self.python, "-O", "0", "-O", "1", "--source-root", ".",
                 "--output-root", out] + sources, cwd=self.example_a, check=True)
        cli = blib.digests(out)
        self.assertEqual(len(cli), 2 * len(sources))
        for rel, digest in cli.items():
            self.assertEqual(self.digests_a[os.path.join("greeting_pycs", rel)], digest, rel)

    def test_bootstrap_source_matches_cmake(self):
        """tool/BUILD.bazel's genrule writes the C++ file embed.cmake writes (but its comment)."""
        checkout = os.path.dirname(os.path.dirname(self.example_a))
        # external/pycemit (WORKSPACE) or external/pycemit~ (bzlmod's canonical name).
        found = [f for d in self.a.bin_dirs(WORKSPACE_NAME)
                 for f in glob.glob(os.path.join(d, "external", "pycemit*", "tool", "bootstrap_source.cpp"))]
        self.assertEqual(len(found), 1, found)
        cmake = shutil.which("cmake")
        if not cmake:
            self.skipTest("no cmake")
        out = os.path.join(self.tmp, "bootstrap_source.cpp")
        subprocess.run([cmake, "-DINPUT=" + os.path.join(checkout, "tool", "bootstrap", "compiler.py"),
                        "-DOUTPUT=" + out, "-P", os.path.join(checkout, "tool", "bootstrap", "embed.cmake")],
                       check=True, capture_output=True)
        with open(found[0]) as f, open(out) as g:
            self.assertEqual(f.read().split("\n", 1)[1], g.read().split("\n", 1)[1])

    def test_skipped_python2_file_leaves_an_empty_placeholder(self):
        placeholder = os.path.join(self.pycs_a, "vendored_pycs", "vendored", "__pycache__",
                                   "legacy.%s.pyc" % self.tag)
        self.assertEqual(os.path.getsize(placeholder), 0)
        # The interpreter treats an empty pyc as unusable and compiles the source instead.
        tree = os.path.join(self.tmp, "placeholder")
        os.makedirs(os.path.join(tree, "__pycache__"))
        with open(os.path.join(tree, "plain.py"), "w") as f:
            f.write("VALUE = 42\n")
        open(os.path.join(tree, "__pycache__", "plain.%s.pyc" % self.tag), "wb").close()
        result = subprocess.run([self.python, "-S", "-B", "-v", "-c",
                                 "import sys; sys.path.insert(0, %r); import plain; print(plain.VALUE)" % tree],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.stdout.strip(), "42", result.stderr[-2000:])
        self.assertIn("bad magic number", result.stderr)

    # -- the pycs are used ------------------------------------------------------------------

    def run_app(self, extra_env=None):
        """Runs the py_binary's launcher itself, as a user would, with a PATH that has no
        `python` (Debian 12 has none): its shebang is the toolchain's stub_shebang."""
        runfiles = os.path.join(self.bin_a, "app.runfiles")
        launcher = os.path.join(self.bin_a, "app")
        with open(launcher) as f:
            self.assertEqual(f.readline().strip(), "#!" + self.python)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update({"PYTHONVERBOSE": "1", "PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"})
        env.update(extra_env or {})
        result = subprocess.run([launcher, "Bazel"], env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        return runfiles, result

    def test_binary_loads_the_pycs_from_its_runfiles(self):
        runfiles, result = self.run_app()
        self.assertIn("HELLO, BAZEL!", result.stdout)
        loaded, problems = blib.load_trace(result.stderr)
        self.assertEqual([p for p in problems if runfiles in p], [])
        ws = os.path.join(runfiles, self.main_repo)
        for rel in GREETING + VENDORED:
            d, stem = os.path.dirname(rel), os.path.basename(rel)[:-3]
            pyc = os.path.join(ws, d, "__pycache__", "%s.%s.pyc" % (stem, self.tag))
            self.assertIn(pyc, loaded, "%s was not loaded from its pyc" % rel)

    def test_binary_under_dash_O_loads_the_opt1_pycs(self):
        runfiles, result = self.run_app({"PYTHONOPTIMIZE": "1"})
        loaded, _ = blib.load_trace(result.stderr)
        ws = os.path.join(runfiles, self.main_repo)
        for rel in GREETING:
            d, stem = os.path.dirname(rel), os.path.basename(rel)[:-3]
            self.assertIn(os.path.join(ws, d, "__pycache__", "%s.%s.opt-1.pyc" % (stem, self.tag)), loaded)

    def test_imports_check_every_source_hash(self):
        ws = os.path.join(self.bin_a, "app.runfiles", self.main_repo)
        modules = ["greeting", "greeting.hello", "greeting._version", "settings", "vendored.modern"]
        files, loaded, stale = lib.imported_from(self.python, ws, modules)
        self.assertEqual(stale, [])
        expected = lib.expected_paths(self.python, sorted(files.values()), [0])
        for module, source in files.items():
            self.assertTrue(source.startswith(ws), source)
            self.assertIn(expected[source][0], loaded, module)

    def test_sourceless_tree_imports(self):
        tree = os.path.join(self.tmp, "image", "opt", "app")
        shutil.copytree(os.path.join(self.pycs_a, "greeting_sourceless"), tree)
        files, loaded, stale = lib.imported_from(self.python, tree, ["greeting", "greeting.hello", "settings"],
                                                 ["-OO"])
        self.assertEqual(stale, [])
        for module, path in files.items():
            self.assertTrue(path.endswith(".pyc"), path)
            self.assertIn(path, loaded)

    # -- worker and plain actions; failures; a hermetic interpreter -------------------------

    def rebuild_pycs(self, strategy, log_name):
        blib.remove_outputs(self.pycs_a)
        strategy_flag = "--strategy=%s=%s" % (blib.MNEMONIC, strategy)
        result, spawns = self.a.build(["//..."], self.rerun_flags + [strategy_flag], log_name=log_name)
        return result, example_spawns(spawns)

    def test_worker_standalone_and_sandboxed_give_identical_bytes(self):
        for strategy, runner in (("standalone", "local"), ("sandboxed", None), ("worker", "worker")):
            with self.subTest(strategy=strategy):
                _, spawns = self.rebuild_pycs(strategy, "rebuild-" + strategy)
                self.assertEqual(len(spawns), len(example_spawns(self.spawns_a)))
                runners = {s["runner"] for s in spawns}
                if runner:
                    self.assertEqual(runners, {runner})
                else:
                    self.assertTrue(all("sandbox" in r for r in runners), runners)
                self.assertEqual(blib.digests(self.pycs_a), self.digests_a)

    def test_wrong_version_and_hermetic_interpreter(self):
        major, minor = self.version.split(".")
        wrong = "%s.%d" % (major, int(minor) - 1)
        extra = os.path.join(self.example_a, "extra")
        os.makedirs(extra)
        # The label interpreter: one with a prefix of its own (pyenv's), not the toolchain's /usr.
        python, python_version = blib.pick_python()
        tag = "cpython-" + python_version.replace(".", "")
        prefix = subprocess.run([python, "-S", "-c", "import sys; print(sys.prefix)"],
                                capture_output=True, text=True, check=True).stdout.strip()
        interpreter = os.path.relpath(os.path.realpath(python), prefix)
        self.assertFalse(interpreter.startswith(".."), (python, prefix))
        with open(os.path.join(extra, "BUILD.bazel"), "w") as f:
            f.write(EXTRA_BUILD.format(wrong=wrong, version=python_version, interpreter=interpreter))
        with open(os.path.join(extra, "mod.py"), "w") as f:
            f.write("def f():\n    '''doc'''\n    assert f\n    return {1, 2, 'three'}\n")
        repo = TEST_PYTHON_REPO.format(prefix='"%s"' % prefix, interpreter=interpreter, version=python_version)
        with open(os.path.join(self.example_a, "MODULE.bazel" if self.bzlmod else "WORKSPACE"), "a") as f:
            f.write((TEST_PYTHON_REPO_BZLMOD if self.bzlmod else "") + repo)

        wrong_tag = "cpython-%s%s" % (major, int(minor) - 1)
        refusal = "with cache tag %s, but the outputs were named for %s" % (self.tag, wrong_tag)
        with self.subTest("wrong python_version, on_error = fail"):
            result, _ = self.a.build(["//extra:wrong_version"], self.rerun_flags, check=False)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn(refusal, result.stderr)
        with self.subTest("wrong python_version, on_error = skip: no placeholder hides it"):
            result, _ = self.a.build(["//extra:wrong_version_skip"], self.rerun_flags, check=False)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn(refusal, result.stderr)

        with self.subTest("interpreter label, sandboxed"):
            _, spawns = self.a.build(["//extra:hermetic"],
                                     self.rerun_flags + ["--strategy=%s=sandboxed" % blib.MNEMONIC],
                                     log_name="hermetic")
            spawns = blib.pyc_spawns(spawns)
            self.assertEqual(len(spawns), 1)
            self.assertIn("sandbox", spawns[0]["runner"])
            inputs = {i["path"] for i in spawns[0]["inputs"]}
            # external/test_python (WORKSPACE), external/_main~_repo_rules~test_python (bzlmod).
            repo_dir = {p.split("/")[1] for p in inputs if re.match(r"external/[^/]*test_python/", p)}
            self.assertEqual(len(repo_dir), 1, sorted(inputs))
            repo_dir = "external/" + repo_dir.pop()
            self.assertIn(repo_dir + "/" + interpreter, inputs)
            self.assertTrue(any(p.startswith(repo_dir + "/lib/") for p in inputs))
            out = os.path.join(self.bin_a, "extra", "_pycemit", "hermetic", "extra", "__pycache__")
            source = os.path.join(extra, "mod.py")
            jobs = [{"source": source, "pyc": os.path.join(out, "mod.%s%s.pyc" % (tag, suffix)),
                     "optimize": level, "mode": "checked-hash", "embedded": "extra/mod.py", "same_body_as": None}
                    for level, suffix in ((0, ""), (2, ".opt-2"))]
            lib.verify(python, jobs)


if __name__ == "__main__":
    unittest.main(verbosity=2)
