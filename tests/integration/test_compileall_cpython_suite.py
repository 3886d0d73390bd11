#!/usr/bin/env python3
"""CPython's own command-line tests of compileall and py_compile, run unmodified
against pycemit's drop-in.

For every installed CPython >= 3.9 whose `test` package ships test_compileall.py
and test_py_compile.py, this runs their command-line classes (CommandLineTests*
and PyCompileCLITestCase) inside that interpreter with one change made from
outside the test files: sys.executable, which test.support.script_helper uses for
every `python -m compileall|py_compile ...` subprocess, is pycemit's
`pycemit-python` entry point with PYCEMIT_PYTHON naming the interpreter. Every
other line those subprocesses run (`python file.pyc`, imports) goes to the
real interpreter unchanged. The tests listed in compileall_cpython_skips.txt
cannot apply to a drop-in (they are listed with the reason); every other test
must pass. At least three CPythons must be tested.

Run one version alone (prints the counts per version):
  PYCEMIT_BIN=$PWD/build/pycemit python3 tests/integration/test_compileall_cpython_suite.py
  PYCEMIT_TEST_PYTHON=/root/.pyenv/versions/3.13.0/bin/python3 ... (one interpreter)
"""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import interpreters  # noqa: E402
import pycemit_testlib  # noqa: E402

SKIPS = os.path.join(HERE, "compileall_cpython_skips.txt")
MINIMUM_VERSIONS = 3

# Runs inside the target: the command-line classes, with sys.executable the entry point.
RUNNER = r"""
import os, sys, unittest, importlib
entry, skips_file = sys.argv[1], sys.argv[2]
skips = {}
for line in open(skips_file, encoding="utf-8"):
    line = line.strip()
    if line and not line.startswith("#"):
        name, _, reason = line.partition(" ")
        skips[name] = reason.strip()
sys.executable = entry
suite = unittest.TestSuite()
loader = unittest.TestLoader()
for module_name, prefixes in (("test.test_compileall", ("CommandLineTests",)),
                              ("test.test_py_compile", ("PyCompileCLITestCase",))):
    module = importlib.import_module(module_name)
    for name in sorted(dir(module)):
        cls = getattr(module, name)
        if not (isinstance(cls, type) and issubclass(cls, unittest.TestCase) and name.startswith(prefixes)):
            continue
        for test_name in loader.getTestCaseNames(cls):
            reason = skips.get(test_name) or skips.get(name + "." + test_name)
            if reason:
                setattr(cls, test_name, unittest.skip("pycemit drop-in: " + reason)(getattr(cls, test_name)))
        suite.addTests(loader.loadTestsFromTestCase(cls))
result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
print("COUNTS run=%d failures=%d errors=%d skipped=%d" % (
    result.testsRun, len(result.failures), len(result.errors), len(result.skipped)))
sys.exit(0 if result.wasSuccessful() else 1)
"""


def has_test_package(python):
    out = subprocess.run([python, "-S", "-c",
                          "import os, compileall; d = os.path.dirname(compileall.__file__); "
                          "print(all(os.path.exists(os.path.join(d, 'test', f)) "
                          "for f in ('test_compileall.py', 'test_py_compile.py')))"],
                         capture_output=True, text=True)
    return out.stdout.strip() == "True"


def suite_pythons():
    return [p for p in pycemit_testlib.target_pythons()
            if pycemit_testlib.python_version(p) >= (3, 9) and has_test_package(p)]


class CPythonCommandLineSuite(unittest.TestCase):
    def test_cpython_command_line_tests_pass_against_the_drop_in(self):
        pythons = suite_pythons()
        print("CPythons with their test package:", ", ".join(pythons))
        if not os.environ.get("PYCEMIT_TEST_PYTHON"):
            self.assertGreaterEqual(len(pythons), MINIMUM_VERSIONS, "need three CPythons >= 3.9 with Lib/test")
        entry = os.path.join(os.path.dirname(os.path.abspath(pycemit_testlib.PYCEMIT)), "pycemit-python")
        self.assertTrue(os.access(entry, os.X_OK), entry)
        for python in pythons:
            with self.subTest(python=python), tempfile.TemporaryDirectory() as cwd:
                env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
                env["PYCEMIT_PYTHON"] = python
                env.setdefault("PYCEMIT_CACHE_DIR", os.path.join(tempfile.gettempdir(), "pycemit-test-cache"))
                env.pop("SOURCE_DATE_EPOCH", None)
                proc = subprocess.run([python, "-c", RUNNER, entry, SKIPS], cwd=cwd, env=env,
                                      capture_output=True, text=True, timeout=900)
                counts = [l for l in proc.stdout.splitlines() if l.startswith("COUNTS")]
                print(python, counts[-1] if counts else "no counts", flush=True)
                for l in proc.stdout.splitlines():
                    if " ... skipped" in l or " ... FAIL" in l or " ... ERROR" in l: print("   ", l)
                self.assertEqual(proc.returncode, 0, proc.stdout[-20000:] + proc.stderr[-5000:])


if __name__ == "__main__":
    unittest.main()
