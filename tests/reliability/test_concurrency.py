"""Several pycemit runs on the same tree at once (parallel CI jobs, a build
system racing an installer, two containers sharing a volume): every run
succeeds, the outputs are those of a single run, readers never see a partial
pyc, and no temporary file is left.

Cases: four runs with the same levels; four runs with different levels; four
forced runs (every pyc rewritten by every run) while a reader keeps reading
every pyc; four forced runs each in its own PID namespace (as in containers or
sandboxes that share a directory: the runs may have the same pid).
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pycemit_testlib as lib  # noqa: E402
import reliability_testlib as rlib  # noqa: E402

PACKAGES = ["email", "json", "http", "xml", "logging", "urllib", "collections", "concurrent", "importlib",
            "argparse", "dataclasses", "typing", "decimal", "fractions", "textwrap"]


def can_unshare_pid():
    try:
        return subprocess.run(["unshare", "--pid", "--fork", "true"], capture_output=True, timeout=30).returncode == 0
    except OSError:
        return False


class ConcurrencyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.python = lib.target_pythons()[-1]
        cls.tmp = tempfile.TemporaryDirectory(prefix="pycemit reliability concurrency ")
        cls.sources = rlib.copy_stdlib_subset(cls.python, os.path.join(cls.tmp.name, "sources"), PACKAGES)
        # The reference: one uninterrupted run, every level, verified.
        cls.reference_tree = cls.fresh_tree("reference")
        out = subprocess.run([rlib.PYCEMIT, "compile", "-q", "--python", cls.python, "--source-root",
                              cls.reference_tree, "-O", "0", "-O", "1", "-O", "2", cls.reference_tree],
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr
        cls.reference = lib.tree_digest(cls.reference_tree)
        rlib.verify_parallel(cls.python, rlib.expectations_for(cls.python, cls.reference_tree,
                                                          lib.sources_in(cls.reference_tree), [0, 1, 2]))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def fresh_tree(cls, name):
        tree = os.path.join(cls.tmp.name, name)
        shutil.copytree(cls.sources, tree)
        return tree

    def setUp(self):
        self.pycemit = rlib.Pycemit(self)

    def expected(self, levels):
        def level_of(path):
            for level in (1, 2):
                if ".opt-%d." % level in path:
                    return level
            return 0
        return {p: d for p, d in self.reference.items() if level_of(p) in levels}

    def run_at_once(self, tree, level_sets, extra=(), prefix=()):
        """Starts one run per entry of `level_sets` together; returns their results."""
        procs = []
        for levels in level_sets:
            args = ["compile", "--python", self.python, "--source-root", tree] + list(extra)
            for level in levels:
                args += ["-O", str(level)]
            procs.append(self.pycemit.start(args + [tree], prefix=prefix))
        results = []
        for proc, marker in procs:
            try:
                out, err = proc.communicate(timeout=600)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            results.append((proc.returncode, err.decode("utf-8", "surrogateescape")))
            self.assertEqual(rlib.wait_for_no_processes(marker), [])
        for (status, err), levels in zip(results, level_sets):
            print("  -O %s: exit %d, %s" % (levels, status, err.strip().splitlines()[-1] if err.strip() else ""))
        return results

    def check(self, tree, results, levels):
        for status, err in results:
            self.assertEqual(status, 0, err[-3000:])
            self.assertEqual(rlib.error_lines(err), [], err[-3000:])
        self.assertEqual(lib.tree_digest(tree), self.expected(levels))
        self.assertEqual(rlib.temporaries(tree), [])

    def test_same_levels(self):
        tree = self.fresh_tree("same")
        results = self.run_at_once(tree, [(0, 1)] * 4)
        self.check(tree, results, {0, 1})

    def test_different_levels(self):
        tree = self.fresh_tree("different")
        results = self.run_at_once(tree, [(0,), (1,), (2,), (0, 1, 2)])
        self.check(tree, results, {0, 1, 2})

    def test_forced_rewrites_while_reading(self):
        """Every run rewrites every pyc; a reader must only ever see whole pycs."""
        tree = self.fresh_tree("forced")
        self.check(tree, self.run_at_once(tree, [(0, 1, 2)]), {0, 1, 2})
        expected = {os.path.join(tree, p): d for p, d in self.expected({0, 1, 2}).items()}
        stop = threading.Event()
        seen = {"reads": 0, "bad": []}

        def reader():
            while not stop.is_set():
                for path, digest in expected.items():
                    try:
                        got = rlib.digest_file(path)
                    except OSError as e:  # a rename never leaves the name missing
                        seen["bad"].append((path, str(e)))
                        continue
                    seen["reads"] += 1
                    if got != digest:
                        seen["bad"].append((path, "partial or wrong bytes"))

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            results = self.run_at_once(tree, [(0, 1, 2)] * 4, extra=["--force"])
        finally:
            stop.set()
            thread.join()
        print("  %d reads during the runs, %d bad" % (seen["reads"], len(seen["bad"])))
        self.assertEqual(seen["bad"], [])
        self.check(tree, results, {0, 1, 2})

    @unittest.skipUnless(can_unshare_pid(), "needs unshare --pid (root)")
    def test_runs_in_separate_pid_namespaces(self):
        """Containers sharing a directory: pycemit is pid 1 in each, so the pid
        alone cannot name temporary files or tell whether their writer is alive."""
        tree = self.fresh_tree("namespaces")
        self.check(tree, self.run_at_once(tree, [(0,)]), {0})
        for round in range(2):
            results = self.run_at_once(tree, [(0,)] * 4, extra=["--force"],
                                       prefix=["unshare", "--pid", "--fork", "--kill-child"])
            self.check(tree, results, {0})

    @unittest.skipUnless(can_unshare_pid(), "needs unshare --pid (root)")
    def test_live_writer_in_another_pid_namespace(self):
        """Run A (this namespace) is frozen in the middle of writing a large pyc;
        run B, in a new PID namespace where A's pid does not exist, writes the
        same directory. B must not take A's temporary file for a dead run's
        leftover: when A resumes, both runs succeed."""
        tree = os.path.join(self.tmp.name, "live-writer")
        blob = rlib.write(os.path.join(tree, "blob.py"), "DATA = b'%s'\n" % ("ab" * 10000000))
        args = ["compile", "--python", self.python, "--source-root", tree, tree]
        self.assertEqual(self.pycemit.run(args).returncode, 0)
        cache = os.path.join(tree, "__pycache__")
        for attempt in range(5):
            rlib.write(blob, "DATA = b'%s'\n" % (("%02d" % attempt) * 10000000))
            proc, marker = self.pycemit.start(args)
            frozen = False
            deadline = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < deadline:
                if any(n.endswith(rlib.TEMP_SUFFIX) for n in os.listdir(cache)):
                    os.kill(proc.pid, signal.SIGSTOP)
                    frozen = any(n.endswith(rlib.TEMP_SUFFIX) for n in os.listdir(cache))
                    break
            if frozen:
                break
            os.kill(proc.pid, signal.SIGCONT)
            proc.communicate()
        self.assertTrue(frozen, "could not freeze run A in the middle of its write")
        try:
            temps = rlib.temporaries(tree)
            other = self.pycemit.run(args, prefix=["unshare", "--pid", "--fork", "--kill-child"])
            print("  run B (own PID namespace): exit %d; A's temporary file %s" % (
                other.returncode, "kept" if all(os.path.exists(t) for t in temps) else "DELETED"))
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        out, err = proc.communicate(timeout=120)
        err = err.decode("utf-8", "surrogateescape")
        print("  run A (resumed): exit %d %s" % (proc.returncode, " | ".join(rlib.error_lines(err))))
        self.assertEqual(other.returncode, 0, rlib.dump(other))
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(rlib.temporaries(tree), [])
        rlib.verify_parallel(self.python, rlib.expectations_for(self.python, tree, [blob], [0]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
