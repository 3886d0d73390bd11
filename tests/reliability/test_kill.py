"""pycemit killed at any moment leaves no corrupt pyc, no interpreter, and nothing a
rerun cannot finish.

- kill -9 at random points (seeded; the seed is printed) during a compile of a
  standard-library copy, at least 20 trials. The tree alternates between two
  complete states (checked-hash, unchecked-hash: the same bodies, different
  headers), so every trial rewrites every pyc and "old" and "new" bytes differ.
  After each kill: every pyc is exactly its old or its new bytes (never a
  prefix, never anything else), no process of the run is alive; a rerun exits 0,
  gives the bytes of an uninterrupted run, and leaves no temporary file.
- kill -9 while a 20 MB pyc is being written (the test watches for its
  temporary file): the old pyc stays whole; the rerun removes the partial
  temporary file.
- SIGTERM and SIGINT: the same guarantees.
- Temporary files of dead runs are removed by the next run even when it has
  nothing to write in their directory; those of live processes are kept.
"""
import fcntl
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pycemit_testlib as lib  # noqa: E402
import reliability_testlib as rlib  # noqa: E402

LEVELS = ["-O", "0", "-O", "1"]
MODES = ["checked-hash", "unchecked-hash"]
TRIALS = int(os.environ.get("PYCEMIT_RELIABILITY_KILL_TRIALS", "20"))
SEED = int(os.environ.get("PYCEMIT_RELIABILITY_SEED", "20240909"))


def dead_pid():
    """The pid of a process that has just ended (not reused within the test)."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


class KillTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.python = lib.target_pythons()[-1]

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit reliability kill ")
        self.addCleanup(self.tmp.cleanup)
        self.pycemit = rlib.Pycemit(self)

    def args(self, tree, mode, *extra):
        return ["compile", "-q", "--python", self.python, "--invalidation-mode", mode, "--source-root", tree] \
            + LEVELS + list(extra) + [tree]

    def reference(self, tree):
        """Uninterrupted runs in both modes; both verified. Returns ({mode: digest}, seconds)."""
        digests, seconds = {}, 0.0
        for mode in MODES:
            result = self.pycemit.run(self.args(tree, mode), timeout=900)
            self.assertEqual(result.returncode, 0, rlib.dump(result))
            seconds = max(seconds, result.seconds)
            digests[mode] = lib.tree_digest(tree)
            if mode == MODES[0]:
                expectations = rlib.expectations_for(self.python, tree, lib.sources_in(tree), [0, 1], mode)
                rlib.verify_parallel(self.python, expectations)
                bodies = {}
                for expectation in expectations:
                    with open(expectation["pyc"], "rb") as f:
                        bodies[expectation["pyc"]] = f.read()
            else:
                # The same bodies, hash-based headers with flags 1: as valid as the verified ones.
                for path, body in bodies.items():
                    with open(path, "rb") as f:
                        data = f.read()
                    self.assertEqual((data[:4], data[4:8], data[8:]), (body[:4], b"\x01\0\0\0", body[8:]))
        self.assertEqual(set(digests[MODES[0]]), set(digests[MODES[1]]))
        return digests, seconds

    def test_kill_9_at_random_points(self):
        tree = lib.copy_stdlib(self.python, os.path.join(self.tmp.name, "Lib copy"))
        digests, seconds = self.reference(tree)
        pycs = len(digests[MODES[0]])
        rng = random.Random(SEED)
        print("\nseed %d (PYCEMIT_RELIABILITY_SEED), %d trials, %d sources, %d pycs, uninterrupted run %.1f s"
              % (SEED, TRIALS, len(lib.sources_in(tree)), pycs, seconds))
        state = MODES[1]  # the tree holds the unchecked-hash pycs now
        killed = attempts = 0
        while killed < TRIALS:
            attempts += 1
            self.assertLess(attempts, TRIALS * 2, "too many runs ended before their kill")
            mode = MODES[attempts % 2]
            if mode == state:
                mode = MODES[(attempts + 1) % 2]
            old, new = digests[state], digests[mode]
            delay = rng.uniform(0.0, 0.95) * seconds
            proc, marker = self.pycemit.start(self.args(tree, mode))
            time.sleep(delay)
            if proc.poll() is not None:  # finished first: not a kill trial
                proc.communicate()
                self.assertEqual(proc.returncode, 0)
                self.assertEqual(lib.tree_digest(tree), new)
                state = mode
                print("  run %2d: finished before its kill at %.2f s" % (attempts, delay))
                continue
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            self.assertEqual(proc.returncode, -signal.SIGKILL)
            killed += 1
            survivors = rlib.wait_for_no_processes(marker)
            rlib.kill_processes(survivors)
            self.assertEqual(survivors, [], "interpreters outlived the killed pycemit:\n"
                             + "\n".join(rlib.describe_process(p) for p in survivors))
            after = lib.tree_digest(tree)
            self.assertLessEqual(set(after), set(new))
            bad = [p for p, d in after.items() if d not in (old.get(p), new[p])]
            self.assertEqual(bad, [], "pycs that are neither their old nor their new bytes")
            rewritten = sum(1 for p, d in after.items() if d == new[p])
            left = rlib.temporaries(tree)
            rerun = self.pycemit.run(self.args(tree, mode), timeout=900)
            self.assertEqual(rerun.returncode, 0, rlib.dump(rerun))
            self.assertEqual(rerun.stderr, "")
            self.assertEqual(lib.tree_digest(tree), new, "the rerun must give the uninterrupted run's bytes")
            self.assertEqual(rlib.temporaries(tree), [], "temporary files left after the rerun")
            state = mode
            print("  kill %2d at %5.2f s (%s): %4d of %d pycs rewritten, %d temporary file(s) left; "
                  "rerun %.1f s ok" % (killed, delay, mode, rewritten, pycs, len(left), rerun.seconds))

    def test_kill_9_while_a_large_pyc_is_written(self):
        tree = os.path.join(self.tmp.name, "blob")
        blob = rlib.write(os.path.join(tree, "blob.py"), "DATA = b'%s'\n" % ("ab" * 10000000))
        result = self.pycemit.run(self.args(tree, "checked-hash"))
        self.assertEqual(result.returncode, 0, rlib.dump(result))
        pycs = rlib.pyc_files(tree)
        old = {p: rlib.digest_file(p) for p in pycs}
        rlib.write(blob, "DATA = b'%s'\n" % ("cd" * 10000000))
        reference = os.path.join(self.tmp.name, "blob-reference")
        rlib.write(os.path.join(reference, "blob.py"), "DATA = b'%s'\n" % ("cd" * 10000000))
        self.assertEqual(self.pycemit.run(self.args(reference, "checked-hash")).returncode, 0)
        new = {os.path.join(tree, os.path.relpath(p, reference)): rlib.digest_file(p)
               for p in rlib.pyc_files(reference)}
        cache = os.path.dirname(pycs[0])
        mid_write = 0
        for trial in range(3):
            proc, marker = self.pycemit.start(self.args(tree, "checked-hash"))
            deadline = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < deadline:
                if any(name.endswith(rlib.TEMP_SUFFIX) for name in os.listdir(cache)):
                    proc.send_signal(signal.SIGKILL)
                    break
            proc.communicate()
            self.assertEqual(rlib.wait_for_no_processes(marker), [])
            sizes = [os.path.getsize(t) for t in rlib.temporaries(tree)]
            for p in pycs:
                self.assertIn(rlib.digest_file(p), (old[p], new[p]), p + " is neither its old nor its new bytes")
            mid_write += any(0 < size < 20000000 for size in sizes)
            print("  trial %d: exit %s, temporary files of sizes %s" % (trial, proc.returncode, sizes))
            if proc.returncode != -signal.SIGKILL:
                break
        result = self.pycemit.run(self.args(tree, "checked-hash"))
        self.assertEqual(result.returncode, 0, rlib.dump(result))
        self.assertEqual(rlib.temporaries(tree), [])
        self.assertEqual({p: rlib.digest_file(p) for p in pycs}, new)
        rlib.verify_parallel(self.python, rlib.expectations_for(self.python, tree, [blob], [0, 1]))
        print("  %d kill(s) landed in the middle of a write" % mid_write)

    def test_sigterm_and_sigint(self):
        python = self.python
        tree = rlib.copy_stdlib_subset(python, os.path.join(self.tmp.name, "subset"),
                                       ["email", "json", "http", "xml", "logging", "urllib"])
        digests, seconds = self.reference(tree)
        state = MODES[1]
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            mode = MODES[0] if state == MODES[1] else MODES[1]
            proc, marker = self.pycemit.start(self.args(tree, mode))
            time.sleep(seconds / 2)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=60)
            self.assertEqual(rlib.wait_for_no_processes(marker), [], "interpreters outlived pycemit")
            after = lib.tree_digest(tree)
            self.assertEqual([p for p, d in after.items() if d not in (digests[state].get(p), digests[mode][p])], [])
            rerun = self.pycemit.run(self.args(tree, mode))
            self.assertEqual(rerun.returncode, 0, rlib.dump(rerun))
            self.assertEqual(lib.tree_digest(tree), digests[mode])
            self.assertEqual(rlib.temporaries(tree), [])
            print("  %s: exit %s, stderr %r; rerun ok" % (signal.Signals(sig).name, proc.returncode,
                                                          err.decode(errors="replace")[-200:]))
            state = mode

    def test_temporaries_of_dead_runs_are_removed(self):
        """What a killed run leaves: a partial "<pyc>.<random>.pycemit-tmp" that
        no process holds locked. The next run removes it whether or not it has
        anything to write in that directory; a temporary that a live writer holds
        locked (flock) is kept."""
        tree = os.path.join(self.tmp.name, "small")
        current = rlib.write(os.path.join(tree, "current", "m.py"), "A = 1\n")
        stale = rlib.write(os.path.join(tree, "stale", "m.py"), "B = 1\n")
        self.assertEqual(self.pycemit.run(self.args(tree, "checked-hash")).returncode, 0)
        rlib.write(stale, "B = 2\n")
        dead = dead_pid()
        leftovers = []
        for source in (current, stale):
            for level in (0, 1):
                pyc = lib.expected_paths(self.python, [source], [level])[source][level]
                leftovers.append(rlib.write("%s.%d.%d%s" % (pyc, dead, level, rlib.TEMP_SUFFIX), b"\x00partial"))
        live = rlib.write("%s.%d.0%s" % (lib.expected_paths(self.python, [current], [0])[current][0], os.getpid(),
                                         rlib.TEMP_SUFFIX), b"being written")
        before = rlib.snapshot(os.path.dirname(live))
        live_fd = os.open(live, os.O_RDONLY)  # a live writer holds its temporary file locked
        fcntl.flock(live_fd, fcntl.LOCK_EX)
        try:
            result = self.pycemit.run(self.args(tree, "checked-hash"))
        finally:
            os.close(live_fd)
        self.assertEqual(result.returncode, 0, rlib.dump(result))
        self.assertEqual(rlib.temporaries(tree), [live], "temporary files of dead runs must go, live ones stay")
        after = rlib.snapshot(os.path.dirname(live))
        self.assertEqual({p: v for p, v in after.items() if p not in leftovers},
                         {p: v for p, v in before.items() if p not in leftovers})
        rlib.verify_parallel(self.python, rlib.expectations_for(self.python, tree, [current, stale], [0, 1]))

    @unittest.skipUnless(subprocess.run(["unshare", "--pid", "--fork", "true"], capture_output=True).returncode == 0,
                         "needs unshare --pid (root)")
    def test_rerun_in_a_new_container_after_a_kill(self):
        """A containerised build is killed (pycemit is pid 1 in its PID
        namespace) while writing; the rerun, in a new container, is pid 1 too:
        it must still finish the job and clear the leftovers."""
        tree = os.path.join(self.tmp.name, "container")
        blob = rlib.write(os.path.join(tree, "blob.py"), "DATA = b'%s'\n" % ("ab" * 10000000))
        in_container = ["unshare", "--pid", "--fork", "--kill-child"]
        self.assertEqual(self.pycemit.run(self.args(tree, "checked-hash"), prefix=in_container).returncode, 0)
        rlib.write(blob, "DATA = b'%s'\n" % ("cd" * 10000000))
        cache = os.path.join(tree, "__pycache__")
        for attempt in range(5):
            proc, marker = self.pycemit.start(self.args(tree, "checked-hash"), prefix=in_container)
            deadline = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < deadline:
                if any(n.endswith(rlib.TEMP_SUFFIX) for n in os.listdir(cache)):
                    proc.send_signal(signal.SIGKILL)  # unshare --kill-child passes it on to pycemit
                    break
            proc.communicate()
            self.assertEqual(rlib.wait_for_no_processes(marker), [])
            if rlib.temporaries(tree):
                break
        left = rlib.temporaries(tree)
        self.assertNotEqual(left, [], "no kill landed during a write")
        print("  left by the killed container: %s" % [os.path.basename(t) for t in left])
        rerun = self.pycemit.run(self.args(tree, "checked-hash"), prefix=in_container)
        print("  rerun in a new container: exit %d %s" % (rerun.returncode, rerun.stderr.strip()[:300]))
        self.assertEqual(rerun.returncode, 0, rlib.dump(rerun))
        self.assertEqual(rlib.temporaries(tree), [])
        rlib.verify_parallel(self.python, rlib.expectations_for(self.python, tree, [blob], [0, 1]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
