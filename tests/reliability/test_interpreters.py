"""Misbehaving interpreters: every file's result is correct or clearly reported,
a good existing pyc is never destroyed, and the run never hangs.

Faults come from a fake interpreter (reliability_testlib.make_fake_python): a
script that execs the real interpreter with an audit hook in front of pycemit's
interpreter stub. A source holding "PYCEMIT-FAULT:<kind>" makes the interpreter crash,
hang, exit, write junk to its reply channel, return bad marshal data... while
every other file compiles normally. Start-up faults (junk before the handshake,
a wrong source hash or magic number, an interpreter that cannot be restarted or
changes version) and paths that are not a usable Python complete the table.

Each case asserts the exit status, the message (naming the file), the state of
every output (the victim's old pycs byte- and mtime-identical, every other pyc
verified inside the real interpreter), no temporary file, no process left, and
an end within a time limit.
"""
import glob
import re
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pycemit_testlib as lib  # noqa: E402
import reliability_testlib as rlib  # noqa: E402

GOOD_FILES = 10
LEVELS = [0, 1]


class FaultyInterpreterTest(unittest.TestCase):
    """Faults while compiling one file ("the victim")."""

    @classmethod
    def setUpClass(cls):
        cls.python = lib.target_pythons()[-1]

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit reliability interpreters ")
        self.addCleanup(self.tmp.cleanup)
        self.pycemit = rlib.Pycemit(self)
        self.tree = os.path.join(self.tmp.name, "src")
        self.fault_dir = os.path.join(self.tmp.name, "faults")
        os.makedirs(self.fault_dir)
        self.env = {"PYCEMIT_FAULT_DIR": self.fault_dir}

    def compile(self, python, *args, timeout=90):
        level_args = [a for level in LEVELS for a in ("-O", str(level))]
        return self.pycemit.run(["compile", "--python", python, "--source-root", self.tree] + level_args
                                + list(args) + [self.tree], timeout=timeout, env=self.env)

    def prepare(self):
        """A compiled tree; then the victim gets a fault marker (its old pycs
        are now stale), two good files change and one is added. Returns the
        snapshot taken after the changes."""
        for i in range(GOOD_FILES):
            rlib.write(os.path.join(self.tree, "pkg", "g%02d.py" % i), "def f():\n    return %d\n" % i)
        self.victim = rlib.write(os.path.join(self.tree, "pkg", "g04_victim.py"), "x = 'old'\n")
        result = self.compile(self.python)
        self.assertEqual(result.returncode, 0, rlib.dump(result))
        self.victim_pycs = [lib.expected_paths(self.python, [self.victim], LEVELS)[self.victim][level]
                            for level in LEVELS]
        rlib.write(os.path.join(self.tree, "pkg", "g05.py"), "def f():\n    return 'changed'\n")
        rlib.write(os.path.join(self.tree, "pkg", "g09.py"), "def f():\n    return 'changed too'\n")
        rlib.write(os.path.join(self.tree, "pkg", "new.py"), "NEW = True\n")
        return rlib.snapshot(self.tree)

    def others(self):
        return [s for s in lib.sources_in(self.tree) if s != self.victim]

    def check_outputs(self, before, victim_ok):
        """Every pyc but the victim's is valid and current; the victim's pycs are
        either its old bytes (untouched) or, if it compiled, valid; no temporary."""
        after = rlib.snapshot(self.tree)
        expectations = rlib.expectations_for(self.python, self.tree, self.others(), LEVELS)
        for expectation in expectations:
            self.assertTrue(os.path.exists(expectation["pyc"]), expectation["pyc"] + " was not written")
        if victim_ok:
            expectations += rlib.expectations_for(self.python, self.tree, [self.victim], LEVELS)
        else:
            for pyc in self.victim_pycs:
                self.assertEqual(after[pyc], before[pyc], "the victim's good old pyc was changed: " + pyc)
        rlib.verify_parallel(self.python, expectations)
        self.assertEqual(rlib.temporaries(self.tree), [])

    def fault_case(self, kind, status, message, args=(), python=None, jobs=1, limit=60, start=None,
                   victim_ok=False, exec_real=True, during=None):
        """Runs one fault; returns the result."""
        before = self.prepare()
        rlib.write(self.victim, "x = 'new'  # PYCEMIT-FAULT:%s\n" % kind)
        before = rlib.snapshot(self.tree) if victim_ok else before
        fake = python or rlib.make_fake_python(self.tmp.name, "python-" + kind, self.python, start=start,
                                               exec_real=exec_real)
        started = time.monotonic()
        if during:
            proc, marker = self.pycemit.start(["compile", "--python", fake, "--source-root", self.tree,
                                               "--jobs", str(jobs), "-O", "0", "-O", "1"] + list(args)
                                              + [self.tree], env=self.env)
            try:
                during(proc)
                out, err = proc.communicate(timeout=limit)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                    self.fail("pycemit did not finish within %d s" % limit)
            result = subprocess.CompletedProcess(proc.args, proc.returncode, out.decode(errors="replace"),
                                                 err.decode("utf-8", "surrogateescape"))
            self.assertEqual(rlib.wait_for_no_processes(marker), [], "processes outlived pycemit")
        else:
            result = self.compile(fake, "--jobs", str(jobs), *args, timeout=limit)
        elapsed = time.monotonic() - started
        print("%-18s exit %d in %.1f s: %s" % (kind, result.returncode, elapsed,
                                               " | ".join(rlib.error_lines(result.stderr))[:300]))
        self.assertEqual(result.returncode, status, rlib.dump(result))
        errors = rlib.error_lines(result.stderr)
        if message:
            self.assertEqual(len(errors), 1, rlib.dump(result))
            self.assertRegex(errors[0], "^" + re.escape(self.victim) + ": " + message)
        else:
            self.assertEqual(errors, [], rlib.dump(result))
        sources = len(lib.sources_in(self.tree))
        self.assertEqual(rlib.summary(result.stderr)[0], sources)
        self.assertEqual(rlib.summary(result.stderr)[3], 1 if message else 0)
        self.check_outputs(before, victim_ok)
        return result

    # -- the interpreter dies or hangs while compiling the victim

    def test_interpreter_killed_mid_file(self):
        self.fault_case("kill", 1, r"InterpreterDied: the interpreter was killed by signal 9 \(Killed\)$")

    def test_interpreter_crashes_with_sigsegv(self):
        self.fault_case("segv", 1, r"InterpreterDied: the interpreter was killed by signal 11 \(Segmentation fault\)$")

    def test_interpreter_exits_mid_file(self):
        self.fault_case("exit", 1, r"InterpreterDied: the interpreter exited with status 0$")

    def test_interpreter_dies_in_the_middle_of_a_reply(self):
        self.fault_case("partial", 1, r"InterpreterDied: the interpreter exited with status 1$")

    def test_interpreter_hangs_and_times_out(self):
        self.fault_case("hang", 1, r"Timeout: no answer within 2 s; the interpreter was killed$",
                        args=["--timeout", "2"], limit=40)

    def test_interpreter_killed_from_outside(self):
        """The OOM killer (or an operator) kills the interpreter compiling the victim."""
        pid_file = os.path.join(self.fault_dir, "hanging.pid")

        def kill_the_hanging_interpreters(proc):
            # Both levels of the victim hang (one request each): kill each interpreter that does.
            deadline = time.monotonic() + 60
            killed = 0
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    with open(pid_file) as f:
                        pid = int(f.read())
                    os.unlink(pid_file)
                except (OSError, ValueError):
                    time.sleep(0.05)
                    continue
                time.sleep(0.2)
                os.kill(pid, signal.SIGKILL)
                killed += 1
            self.assertGreaterEqual(killed, 1, "no interpreter reached the victim")

        self.fault_case("hang", 1, r"InterpreterDied: the interpreter was killed by signal 9 \(Killed\)$",
                        args=["--timeout", "60"], during=kill_the_hanging_interpreters, limit=40)

    def test_hanging_interpreter_behind_a_wrapper_that_does_not_exec(self):
        """`#!/bin/sh` + `python "$@"` style wrappers: on timeout the whole interpreter
        (its process group) must go, not just the wrapper."""
        self.fault_case("hang", 1, r"Timeout: no answer within 2 s; the interpreter was killed$",
                        args=["--timeout", "2"], limit=40, exec_real=False)

    def test_interpreter_closes_its_reply_channel_and_hangs(self):
        self.fault_case("close", 1, r"(InterpreterDied|Timeout): ", args=["--timeout", "3"], limit=40)

    # -- the interpreter writes something that is not a reply

    def test_junk_on_the_reply_channel(self):
        self.fault_case("junk", 1, r"InterpreterDied: the interpreter wrote something that is not a pycemit reply "
                                   r"\(.+\); it was killed$")

    def test_unknown_frame_on_the_reply_channel(self):
        self.fault_case("badframe", 1, r"InterpreterDied: the interpreter wrote something that is not a pycemit reply "
                                       r"\(.+\); it was killed$")

    def test_truncated_marshal_data(self):
        self.fault_case("marshal-truncated", 1, r"the interpreter's reply is not usable: truncated")

    def test_marshal_data_with_trailing_bytes(self):
        self.fault_case("marshal-trailing", 1, r"the interpreter's reply is not usable: .*trailing bytes")

    def test_garbage_marshal_data(self):
        self.fault_case("marshal-garbage", 1, r"the interpreter's reply is not usable: ")

    def test_marshal_data_that_is_not_a_code_object(self):
        # A pyc whose body is not a code object makes import fail ("Non-code object"): never write one.
        self.fault_case("marshal-notcode", 1, r"the interpreter's reply is not usable: .*not a code object")

    # -- noise that must not matter

    def test_interpreter_floods_stderr(self):
        self.fault_case("flood", 0, None, victim_ok=True)

    def test_interpreter_prints_to_stdout(self):
        self.fault_case("chatter", 0, None, victim_ok=True)

    def test_slow_file_within_the_timeout(self):
        self.fault_case("slow", 0, None, args=["--timeout", "10"], victim_ok=True)

    def test_crash_with_several_interpreters(self):
        self.fault_case("kill", 1, r"InterpreterDied: the interpreter was killed by signal 9 \(Killed\)$", jobs=3)

    # -- the replacement interpreter is not the same interpreter

    def test_replacement_interpreter_cannot_start(self):
        before = self.prepare()
        rlib.write(self.victim, "x = 'new'  # PYCEMIT-FAULT:kill\n")
        fake = rlib.make_fake_python(self.tmp.name, "python-once", self.python, start="die-after-first")
        result = self.compile(fake, "--jobs", "1", timeout=60)
        print("die-after-first    exit %d: %s" % (result.returncode, result.stderr.strip()[:300]))
        self.assertEqual(result.returncode, 3, rlib.dump(result))
        self.assertIn(fake + ": no pycemit handshake: the interpreter exited with status 1 "
                      "(it said: fake python: cannot start a second time)", result.stderr)
        self.check_partial_run(before)

    def test_interpreter_changes_version_between_processes(self):
        older = lib.target_pythons()[0]
        self.assertNotEqual(lib.python_version(older), lib.python_version(self.python))
        before = self.prepare()
        rlib.write(self.victim, "x = 'new'  # PYCEMIT-FAULT:kill\n")
        fake = rlib.make_fake_python(self.tmp.name, "python-swapped", self.python, later=older)
        result = self.compile(fake, "--jobs", "1", timeout=60)
        print("version swap       exit %d: %s" % (result.returncode, result.stderr.strip()[:300]))
        self.assertEqual(result.returncode, 3, rlib.dump(result))
        self.assertRegex(result.stderr, r"now reports CPython 3\.\d+\.\d+ \(magic number \d+\), expected CPython "
                                        r"3\.\d+\.\d+ \(magic number \d+\): the interpreter changed")
        older_tag = "cpython-%d%d" % lib.python_version(older)
        self.assertEqual(glob.glob(os.path.join(self.tree, "**", "*.%s*.pyc" % older_tag), recursive=True), [])
        self.check_partial_run(before)

    def check_partial_run(self, before):
        """After a run that stopped early: every pyc is its old bytes (old
        pycs of changed sources stay stale, which import detects) or new and
        valid; the victim's are untouched; no temporary file."""
        after = rlib.snapshot(self.tree)
        for pyc in self.victim_pycs:
            self.assertEqual(after[pyc], before[pyc])
        expectations = rlib.expectations_for(self.python, self.tree, self.others(), LEVELS)
        changed = [j for j in rlib.with_existing_pycs(expectations) if after[j["pyc"]] != before.get(j["pyc"])]
        rlib.verify_parallel(self.python, changed)
        self.assertEqual(rlib.temporaries(self.tree), [])


class BadInterpreterTest(unittest.TestCase):
    """Interpreters that cannot serve at all: exit 3, one line naming it, no output touched."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit reliability bad interpreters ")
        self.addCleanup(self.tmp.cleanup)
        self.pycemit = rlib.Pycemit(self)
        self.tree = os.path.join(self.tmp.name, "src")
        self.python = lib.target_pythons()[-1]
        rlib.write(os.path.join(self.tree, "pkg", "a.py"), "A = 1\n")
        rlib.write(os.path.join(self.tree, "pkg", "b.py"), "B = 1\n")
        self.assertEqual(self.compile(self.python).returncode, 0)
        rlib.write(os.path.join(self.tree, "pkg", "a.py"), "A = 2\n")  # stale now
        rlib.write(os.path.join(self.tree, "pkg", "c.py"), "C = 1\n")  # no pyc yet

    def compile(self, python, timeout=60):
        return self.pycemit.run(["compile", "--python", python, "--timeout", "3", "--source-root", self.tree,
                                 self.tree], timeout=timeout)

    def script(self, name, text, mode=0o755):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def check(self, python, message):
        before = rlib.snapshot(self.tree)
        started = time.monotonic()
        result = self.compile(python, timeout=30)
        print("%-40s exit %d in %.1f s: %s" % (os.path.basename(python)[:40], result.returncode,
                                               time.monotonic() - started, result.stderr.strip()[:200]))
        self.assertEqual(result.returncode, 3, rlib.dump(result))
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, rlib.dump(result))
        self.assertRegex(result.stderr, message)
        self.assertEqual(rlib.snapshot(self.tree), before, "no output may change")

    def test_paths_that_are_not_python(self):
        fake_dir = self.tmp.name
        cases = [
            ("/bin/true", r"/bin/true: no pycemit handshake"),
            ("/bin/cat", r"/bin/cat: no pycemit handshake"),
            (fake_dir, r"not an executable file"),
            (self.script("not executable", "#!/bin/sh\n", 0o644), r"not an executable file"),
            (os.path.join(fake_dir, "missing"), r"no such file"),
            (self.script("no shebang", "print('hi')\n"), r"cannot run: Exec format error"),
            (self.script("bad shebang", "#!/nonexistent/python3\n"), r"cannot run: No such file or directory"),
            (self.script("chatty", "#!/bin/sh\necho 'Python 3.12.1 (main) [GCC]'\nsleep 1\n"),
             r"no pycemit handshake \(not a Python interpreter\?\)"),
            (self.script("echo", "#!/bin/sh\nexec cat\n"), r"no pycemit handshake: no answer within 3 s"),
            (self.script("hangs", "#!/bin/sh\nexec sleep 600\n"), r"no pycemit handshake: no answer within 3 s"),
            (self.script("crashes", "#!/bin/sh\nkill -SEGV $$\n"), r"no pycemit handshake: the interpreter was killed "
                                                                   r"by signal 11"),
            # Output closed, process alive: must end by the handshake timeout (open bug 1: it hangs).
            (self.script("closes stdout", "#!/bin/sh\nexec >&-\nexec sleep 600\n"), r"no pycemit handshake"),
        ]
        for python, message in cases:
            with self.subTest(python=python):
                self.check(python, message)

    def test_interpreters_that_refuse_at_handshake(self):
        fake = lambda start: rlib.make_fake_python(self.tmp.name, "python-" + start, self.python, start=start)  # noqa
        cases = [
            ("hello-junk", r"no pycemit handshake \(not a Python interpreter\?\)"),
            ("bad-hash", r"importlib.util.source_hash agrees with neither SipHash-1-3 nor SipHash-2-4"),
            ("bad-magic", r"reports magic number 3000, outside the range of CPython 3\.\d+'s magic numbers"),
            ("hang", r"no pycemit handshake: no answer within 3 s"),
        ]
        for start, message in cases:
            with self.subTest(start=start):
                self.check(fake(start), message)

    def test_pythons_that_are_too_old(self):
        for python, impl, version in lib.interpreters.refused_interpreters():
            with self.subTest(python=python):
                self.check(python, r"is CPython %d\.%d\.\d+: pycemit writes pycs for Python 3\.8 or later"
                           % (version[0], version[1]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
