"""Bad input gets a clear message, a non-zero exit status, and loses nothing.

Each case asserts the message, the exit status, and the state of the outputs:
no partial pyc, no temporary file left, and an existing good pyc untouched.
Permission cases run pycemit as an unprivileged user (setpriv) when the tests
run as root, since root ignores file modes.
"""
import glob
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pycemit_testlib as lib  # noqa: E402

SYSTEM_PYTHON = "/usr/bin/python3.11"  # readable by an unprivileged user, unlike pyenv's under /root


def snapshot(tree):
    """{path: (bytes, mtime_ns)} of every file below `tree`."""
    state = {}
    for d, _, files in os.walk(tree):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                state[p] = (fh.read(), os.stat(p).st_mtime_ns)
    return state


def unprivileged(args):
    """`args` run as nobody when we are root (root bypasses file modes)."""
    if os.geteuid() != 0:
        return args
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + args


class ErrorsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit errors ")
        self.addCleanup(self.tmp.cleanup)
        self.tree = os.path.join(self.tmp.name, "src tree")
        os.makedirs(os.path.join(self.tree, "pkg"))
        self.write("pkg/good.py", b"def f():\n    return 42\n")
        self.python = lib.target_pythons()[-1]

    def write(self, rel, data):
        path = os.path.join(self.tree, rel)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def compile(self, *args, python=None):
        return lib.run(["compile", "--python", python or self.python, "--source-root", self.tree] + list(args)
                       + [self.tree])

    def assert_no_temporaries(self):
        self.assertEqual(glob.glob(os.path.join(self.tree, "**", "*pycemit-tmp*"), recursive=True), [])

    def pyc(self, rel, python=None):
        source = os.path.join(self.tree, rel)
        return lib.expected_paths(python or self.python, [source], [0])[source][0]

    def test_syntax_errors_in_every_interpreter(self):
        bad = self.write("pkg/bad.py", b"x = 1\n\ndef f(:\n    pass\n")
        for python in lib.target_pythons():
            with self.subTest(python=python):
                result = self.compile(python=python)
                self.assertEqual(result.returncode, 1)
                self.assertRegex(result.stderr, r"(?m)^%s:3:\d+: SyntaxError: " % repr(bad)[1:-1])
                self.assertTrue(os.path.exists(self.pyc("pkg/good.py", python)), "the good file is compiled")
                self.assertFalse(os.path.exists(self.pyc("pkg/bad.py", python)))
        self.assert_no_temporaries()

    def test_syntax_error_keeps_a_good_existing_pyc(self):
        path = self.write("pkg/m.py", b"x = 1\n")
        self.assertEqual(self.compile().returncode, 0)
        before = snapshot(os.path.join(self.tree, "pkg", "__pycache__"))
        self.write("pkg/m.py", b"x = = 1\n")
        result = self.compile()
        self.assertEqual(result.returncode, 1)
        self.assertIn(path + ":1:", result.stderr)
        self.assertEqual(snapshot(os.path.join(self.tree, "pkg", "__pycache__")), before)

    def test_encoding_problems_and_nul_bytes(self):
        cookie = self.write("cookie.py", b"# -*- coding: uft-8 -*-\nx = 1\n")
        undecodable = self.write("undecodable.py", b"x = '\xff'\n")
        nul = self.write("nul.py", b"x = 1\x00\n")
        for python in lib.target_pythons():
            with self.subTest(python=python):
                result = self.compile(python=python)
                self.assertEqual(result.returncode, 1)
                self.assertIn(cookie + ": SyntaxError: unknown encoding: uft-8", result.stderr)
                # 3.8-3.13: "(unicode error) 'utf-8' codec can't decode ...";
                # 3.14+: "Non-UTF-8 code starting with '\xff' on line 1 ...". Both give line and column.
                self.assertRegex(result.stderr, r"%s:1:\d+: SyntaxError: (\(unicode error\) 'utf-8' codec can't decode|"
                                 r"Non-UTF-8 code starting with '\\xff' on line 1)" % repr(undecodable)[1:-1])
                # 3.8-3.11 raise ValueError, 3.12+ SyntaxError; both name the file.
                self.assertRegex(result.stderr, r"%s: (ValueError|SyntaxError): source code (string )?cannot contain null bytes"
                                 % repr(nul)[1:-1])
                for rel in ("cookie.py", "undecodable.py", "nul.py"):
                    self.assertFalse(os.path.exists(self.pyc(rel, python)))
        self.assert_no_temporaries()

    def test_fail_fast_stops_at_the_first_failure(self):
        for i in range(30):
            self.write("pkg/m%02d.py" % i, b"x = %d\n" % i)
        self.write("pkg/a_bad.py", b"def (:\n")
        result = self.compile("--fail-fast", "--jobs", "1")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.count("SyntaxError"), 1)
        written = glob.glob(os.path.join(self.tree, "pkg", "__pycache__", "*.pyc"))
        self.assertLess(len(written), 31)
        self.assert_no_temporaries()

    def test_missing_and_non_python_interpreters(self):
        plain = os.path.join(self.tmp.name, "plain file")
        with open(plain, "w") as f:
            f.write("not a program\n")
        os.chmod(plain, 0o644)
        cases = [
            (os.path.join(self.tmp.name, "no such python"), "no such file"),
            ("no-such-python-anywhere", "not found on PATH"),
            (plain, "not an executable file"),
            ("/bin/true", "no pycemit handshake"),
            ("/bin/ls", "no pycemit handshake"),
        ]
        for python, message in cases:
            with self.subTest(python=python):
                result = self.compile("--timeout", "5", python=python)
                self.assertEqual(result.returncode, 3, result.stderr)
                self.assertIn(message, result.stderr)
                self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertEqual(glob.glob(os.path.join(self.tree, "**", "*.pyc"), recursive=True), [])

    def test_hanging_interpreter_times_out(self):
        hang = os.path.join(self.tmp.name, "hanging python")
        with open(hang, "w") as f:
            f.write("#!/bin/sh\nexec sleep 600\n")
        os.chmod(hang, 0o755)
        result = self.compile("--timeout", "2", python=hang)
        self.assertEqual(result.returncode, 3)
        self.assertIn("no answer within 2 s", result.stderr)

    def test_interpreters_older_than_python_38(self):
        for python, impl, version in lib.interpreters.refused_interpreters():
            with self.subTest(python=python):
                result = self.compile(python=python)
                self.assertEqual(result.returncode, 3, result.stderr)
                self.assertIn("pycemit writes pycs for Python 3.8 or later", result.stderr)
                self.assertIn("CPython %d.%d" % (version[0], version[1]), result.stderr)

    def test_usage_errors(self):
        for args, message in [(["-O", "3"], "levels are 0, 1 and 2"),
                              (["-O", "1", "-O", "1"], "given twice"),
                              (["--layout", "prefix"], "needs --pycache-prefix"),
                              (["--layout", "sourceless", "-O", "0", "-O", "1"], "takes one optimization level"),
                              (["--invalidation-mode", "sha256"], "--invalidation-mode"),
                              (["--install-root", "relative/dir"], "must be an absolute path")]:
            with self.subTest(args=args):
                result = self.compile(*args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(message, result.stderr)
        self.write("top.py", b"")
        outside = lib.run(["compile", "--python", self.python, "--source-root", os.path.join(self.tree, "pkg"),
                           os.path.join(self.tree, "pkg", "good.py"), self.tree])
        self.assertEqual(outside.returncode, 1)
        self.assertIn("not below the source root", outside.stderr)

    def test_symlink_or_directory_at_an_output_path(self):
        target = self.pyc("pkg/good.py")
        os.makedirs(os.path.dirname(target))
        elsewhere = os.path.join(self.tmp.name, "precious")
        with open(elsewhere, "w") as f:
            f.write("do not overwrite")
        os.symlink(elsewhere, target)
        result = self.compile()
        self.assertEqual(result.returncode, 1)
        self.assertIn(target + ": refusing to replace a symlink", result.stderr)
        with open(elsewhere) as f:
            self.assertEqual(f.read(), "do not overwrite")
        os.unlink(target)
        os.mkdir(target)
        result = self.compile()
        self.assertEqual(result.returncode, 1)
        self.assertIn(target + ": refusing to replace a directory", result.stderr)
        self.assert_no_temporaries()

    def unprivileged_tree(self):
        os.chmod(self.tmp.name, 0o755)
        for d, dirs, files in os.walk(self.tmp.name):
            for name in dirs:
                os.chmod(os.path.join(d, name), 0o777)
        os.chmod(self.tree, 0o777)

    def run_unprivileged(self, *args):
        cmd = unprivileged([lib.PYCEMIT, "compile", "--python", SYSTEM_PYTHON, "--source-root", self.tree]
                           + list(args) + [self.tree])
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYCEMIT_CACHE")}
        env["PYCEMIT_CACHE_DIR"] = os.path.join(self.tmp.name, "cache")
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)

    def test_unreadable_source(self):
        secret = self.write("pkg/secret.py", b"x = 1\n")
        self.unprivileged_tree()
        os.chmod(secret, 0o000)
        result = self.run_unprivileged()
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(secret + ": cannot read: Permission denied", result.stderr)
        self.assertTrue(os.path.exists(self.pyc("pkg/good.py", SYSTEM_PYTHON)))
        self.assertFalse(os.path.exists(self.pyc("pkg/secret.py", SYSTEM_PYTHON)))

    def test_read_only_output_directory(self):
        self.write("pkg/other.py", b"y = 2\n")
        self.unprivileged_tree()
        self.assertEqual(self.run_unprivileged().returncode, 0)
        cache = os.path.join(self.tree, "pkg", "__pycache__")
        self.write("pkg/other.py", b"y = 3\n")  # now stale
        self.write("pkg/new.py", b"z = 1\n")    # no pyc yet
        before = snapshot(cache)
        os.chmod(cache, 0o555)
        result = self.run_unprivileged()
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(self.pyc("pkg/other.py", SYSTEM_PYTHON) + ": cannot write: Permission denied", result.stderr)
        self.assertIn(self.pyc("pkg/new.py", SYSTEM_PYTHON) + ": cannot write: Permission denied", result.stderr)
        self.assertEqual(snapshot(cache), before, "existing pycs must be untouched")
        os.chmod(cache, 0o755)
        self.assert_no_temporaries()


if __name__ == "__main__":
    unittest.main()
