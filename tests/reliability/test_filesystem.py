"""File-system faults: pycemit says what went wrong, never leaves a partial pyc
or a temporary file, and never destroys a good pyc.

Cases: a read-only file system (a tmpfs remounted read-only) and output
directories an unprivileged user cannot write (setpriv to nobody when running
as root); an unwritable or blocked __pycache__; a full disk (a small tmpfs:
out of blocks, out of inodes) and a file-size limit (RLIMIT_FSIZE, EFBIG);
symlinks, directories and FIFOs at output paths; dangling and looping symlinks
as sources; a directory named x.py; non-UTF-8 file names; names with spaces
and newlines; names too long for a pyc.

Each case asserts the exit status, every message, and the state of every file
(snapshots: bytes and mtimes of the pycs that must not change; verify_pycs.py
for the ones written; import from the pycs where the name is importable).
"""
import os
import re
import resource
import stat
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pycemit_testlib as lib  # noqa: E402
import reliability_testlib as rlib  # noqa: E402

CAN_MOUNT = rlib.can_mount()


def big_source(n, size):
    """A module with a string constant of about `size` bytes (its pyc is about as big)."""
    text = ("%06d" % n) * (size // 6)
    return "DATA = %r\nSIZE = len(DATA)\n" % text


class FileSystemTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit reliability fs ")
        self.addCleanup(self.tmp.cleanup)
        self.pycemit = rlib.Pycemit(self)
        self.python = lib.target_pythons()[-1]
        self.tree = os.path.join(self.tmp.name, "tree")

    def compile(self, *args, tree=None, python=None, **kwargs):
        tree = tree or self.tree
        return self.pycemit.run(["compile", "--python", python or self.python, "--source-root", tree]
                                + list(args) + [tree], **kwargs)

    def pyc(self, source, level=0, python=None):
        return lib.expected_paths(python or self.python, [source], [level])[source][level]

    def verify_sources(self, sources, python=None, levels=(0,), tree=None):
        expectations = rlib.expectations_for(python or self.python, tree or self.tree, list(sources), list(levels))
        for expectation in expectations:
            self.assertTrue(os.path.exists(expectation["pyc"]), "missing " + expectation["pyc"])
        rlib.verify_parallel(python or self.python, expectations)

    def assert_unchanged(self, before, paths):
        after = rlib.snapshot(self.tree)
        for path in paths:
            self.assertEqual(after.get(path), before.get(path), "changed: " + path)

    def report(self, name, result):
        print("%-28s exit %d: %s" % (name, result.returncode, " | ".join(rlib.error_lines(result.stderr))[:400]))

    # ------------------------------------------------------------ read-only and unwritable

    @unittest.skipUnless(CAN_MOUNT, "needs root to mount a tmpfs")
    def test_read_only_file_system(self):
        with rlib.tmpfs(os.path.join(self.tmp.name, "mnt"), size="4m") as mnt:
            self.tree = os.path.join(mnt, "tree")
            stale = rlib.write(os.path.join(self.tree, "pkg", "stale.py"), "A = 1\n")
            fresh = rlib.write(os.path.join(self.tree, "pkg", "fresh.py"), "B = 1\n")
            self.assertEqual(self.compile().returncode, 0)
            rlib.write(stale, "A = 2\n")
            new = rlib.write(os.path.join(self.tree, "pkg", "new.py"), "C = 1\n")
            sub = [rlib.write(os.path.join(self.tree, "sub", name), "D = 1\n") for name in ("d1.py", "d2.py")]
            before = rlib.snapshot(self.tree)
            rlib.remount(mnt, "ro")
            try:
                result = self.compile()
            finally:
                rlib.remount(mnt, "rw")
            self.report("read-only file system", result)
            self.assertEqual(result.returncode, 1, rlib.dump(result))
            errors = rlib.error_lines(result.stderr)
            self.assertIn(self.pyc(stale) + ": cannot write: Read-only file system", errors)
            self.assertIn(self.pyc(new) + ": cannot write: Read-only file system", errors)
            # Both sources of sub/ fail, and each says why: its __pycache__ cannot be created.
            self.assertEqual(len(errors), 4, rlib.dump(result))
            self.assertEqual([e for e in errors if not e.endswith(": Read-only file system")], [], rlib.dump(result))
            self.assertEqual(len([e for e in errors if e.startswith(os.path.join(self.tree, "sub", ""))]), 2)
            self.assertEqual(rlib.summary(result.stderr), (5, 0, 1, 4))
            self.assertEqual(rlib.snapshot(self.tree), before)
            result = self.compile()
            self.assertEqual(result.returncode, 0, rlib.dump(result))
            self.verify_sources([stale, fresh, new] + sub)
            self.assertEqual(rlib.temporaries(self.tree), [])

    def unprivileged(self, *args):
        """pycemit run as nobody (when we are root: root ignores file modes),
        with the system interpreter (pyenv's under /root are not readable by nobody)."""
        cache = os.path.join(self.tmp.name, "cache")
        os.makedirs(cache, exist_ok=True)
        os.chmod(cache, 0o777)
        self.pycemit.cache_dir = cache
        return self.pycemit.run(["compile", "--python", rlib.SYSTEM_PYTHON, "--source-root", self.tree]
                                + list(args) + [self.tree], prefix=rlib.unprivileged([]))

    @unittest.skipUnless(os.path.exists(rlib.SYSTEM_PYTHON), "needs " + rlib.SYSTEM_PYTHON)
    def test_unwritable_output_directories(self):
        """__pycache__ without write permission, and a source directory where
        __pycache__ cannot be created, as an unprivileged user."""
        py = rlib.SYSTEM_PYTHON
        stale = rlib.write(os.path.join(self.tree, "pkg", "stale.py"), "A = 1\n")
        fresh = rlib.write(os.path.join(self.tree, "pkg", "fresh.py"), "B = 1\n")
        rlib.open_to_everyone(self.tree)
        self.assertEqual(self.unprivileged().returncode, 0)
        rlib.write(stale, "A = 2\n")
        new = rlib.write(os.path.join(self.tree, "pkg", "new.py"), "C = 1\n")
        locked = [rlib.write(os.path.join(self.tree, "locked", n), "D = 1\n") for n in ("d1.py", "d2.py")]
        rlib.open_to_everyone(self.tree)
        cache = os.path.join(self.tree, "pkg", "__pycache__")
        before = rlib.snapshot(self.tree)
        os.chmod(cache, 0o555)
        os.chmod(os.path.join(self.tree, "locked"), 0o555)
        try:
            result = self.unprivileged()
        finally:
            os.chmod(cache, 0o777)
            os.chmod(os.path.join(self.tree, "locked"), 0o777)
        self.report("unwritable directories", result)
        self.assertEqual(result.returncode, 1, rlib.dump(result))
        errors = rlib.error_lines(result.stderr)
        self.assertIn(self.pyc(stale, python=py) + ": cannot write: Permission denied", errors)
        self.assertIn(self.pyc(new, python=py) + ": cannot write: Permission denied", errors)
        # Both sources of locked/ fail, and each says why.
        self.assertEqual(len(errors), 4, rlib.dump(result))
        self.assertEqual([e for e in errors if not e.endswith(": Permission denied")], [], rlib.dump(result))
        self.assertEqual(rlib.snapshot(self.tree), before)
        self.assertEqual(self.unprivileged().returncode, 0)
        self.verify_sources([stale, fresh, new] + locked, python=py)
        self.assertEqual(rlib.temporaries(self.tree), [])

    def test_pycache_that_is_not_a_directory(self):
        good = rlib.write(os.path.join(self.tree, "good", "m.py"), "A = 1\n")
        blocked = [rlib.write(os.path.join(self.tree, "blocked", n), "B = 1\n") for n in ("b1.py", "b2.py")]
        rlib.write(os.path.join(self.tree, "blocked", "__pycache__"), "I am a file, not a directory\n")
        elsewhere = os.path.join(self.tmp.name, "elsewhere")
        os.symlink(elsewhere, os.path.join(self.tree, "good", "__pycache__"))  # dangling directory symlink
        before = rlib.snapshot(self.tree)
        result = self.compile()
        self.report("__pycache__ not a directory", result)
        self.assertEqual(result.returncode, 1, rlib.dump(result))
        errors = rlib.error_lines(result.stderr)
        self.assertEqual(len(errors), 3, rlib.dump(result))
        for e in errors:
            self.assertRegex(e, r": cannot create directory: a file is in the way$")
        self.assertEqual(sum(e.startswith(os.path.join(self.tree, "blocked", "__pycache__")) for e in errors), 2)
        self.assertEqual(rlib.snapshot(self.tree), before)
        self.assertFalse(os.path.exists(elsewhere))

    # ------------------------------------------------------------ full disk, file size limit

    def grow_and_check(self, sources, stale, result, errno_text, before):
        """After a run where some writes failed for lack of space: every failed
        output is named with `errno_text` and kept its old bytes; every other
        output is valid; no temporary file."""
        self.assertEqual(result.returncode, 1, rlib.dump(result))
        errors = rlib.error_lines(result.stderr)
        self.assertGreater(len(errors), 0)
        failed = set()
        for e in errors:
            m = re.match(r"^(.*\.pyc): cannot write: (.*)$", e)
            self.assertTrue(m, "unexpected message: " + e)
            self.assertEqual(m.group(2), errno_text, e)
            failed.add(m.group(1))
        pycs = {s: self.pyc(s) for s in sources}
        self.assertTrue(failed <= {pycs[s] for s in stale}, failed)
        self.assert_unchanged(before, failed)
        self.verify_sources([s for s in sources if pycs[s] not in failed])
        self.assertEqual(rlib.temporaries(self.tree), [])
        self.assertEqual(rlib.summary(result.stderr)[3], len(failed))
        return failed

    @unittest.skipUnless(CAN_MOUNT, "needs root to mount a tmpfs")
    def test_full_disk(self):
        with rlib.tmpfs(os.path.join(self.tmp.name, "mnt"), size="1m") as mnt:
            self.tree = os.path.join(mnt, "tree")
            sources = [rlib.write(os.path.join(self.tree, "pkg", "m%d.py" % i), "DATA = %d\n" % i)
                       for i in range(8)]
            self.assertEqual(self.compile().returncode, 0)
            stale = sources[:6]
            for i, s in enumerate(stale):
                rlib.write(s, big_source(i, 60000))
            before = rlib.snapshot(self.tree)
            vfs = os.statvfs(mnt)
            filler = os.path.join(mnt, "filler")
            with open(filler, "wb") as f:
                f.write(b"\0" * max(0, vfs.f_bavail * vfs.f_frsize - 150000))
            free_before = os.statvfs(mnt).f_bavail
            result = self.compile()
            self.report("full disk (tmpfs)", result)
            failed = self.grow_and_check(sources, stale, result, "No space left on device", before)
            self.assertLess(len(failed), len(stale), "expected some rewrites to fit")
            written = len(stale) - len(failed)
            # The failed writes left no space behind: what is used is what was written.
            self.assertGreaterEqual(os.statvfs(mnt).f_bavail, free_before - written * 16 - 2)
            os.unlink(filler)
            result = self.compile()
            self.assertEqual(result.returncode, 0, rlib.dump(result))
            self.verify_sources(sources)
            self.assertEqual(rlib.temporaries(self.tree), [])

    @unittest.skipUnless(CAN_MOUNT, "needs root to mount a tmpfs")
    def test_out_of_inodes(self):
        with rlib.tmpfs(os.path.join(self.tmp.name, "mnt"), size="4m", inodes=64) as mnt:
            self.tree = os.path.join(mnt, "tree")
            sources = [rlib.write(os.path.join(self.tree, "pkg", "m%d.py" % i), "DATA = %d\n" % i)
                       for i in range(4)]
            self.assertEqual(self.compile().returncode, 0)
            rlib.write(sources[0], "DATA = 'changed'\n")
            rlib.write(sources[1], "DATA = 'changed too'\n")
            fillers = []
            try:
                for i in range(1000):
                    path = os.path.join(mnt, "inode%d" % i)
                    open(path, "w").close()
                    fillers.append(path)
            except OSError as e:
                self.assertEqual(e.errno, 28)
            before = rlib.snapshot(self.tree)
            result = self.compile()
            self.report("out of inodes (tmpfs)", result)
            failed = self.grow_and_check(sources, sources[:2], result, "No space left on device", before)
            self.assertEqual(len(failed), 2)
            for path in fillers:
                os.unlink(path)
            self.assertEqual(self.compile().returncode, 0)
            self.verify_sources(sources)

    def test_file_size_limit(self):
        """RLIMIT_FSIZE (a quota or `ulimit -f`): the write fails part-way with EFBIG."""
        sources = [rlib.write(os.path.join(self.tree, "pkg", "m%d.py" % i), "DATA = %d\n" % i) for i in range(6)]
        self.assertEqual(self.compile().returncode, 0)
        big = sources[:3]
        for i, s in enumerate(big):
            rlib.write(s, big_source(i, 100000))
        rlib.write(sources[3], "DATA = 'small change'\n")
        before = rlib.snapshot(self.tree)
        limit = 64 * 1024

        def limit_file_size():
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        result = self.compile(preexec_fn=limit_file_size)
        self.report("file size limit", result)
        failed = self.grow_and_check(sources, big, result, "File too large", before)
        self.assertEqual(failed, {self.pyc(s) for s in big})
        self.assertEqual(self.compile().returncode, 0)
        self.verify_sources(sources)

    # ------------------------------------------------------------ things at output paths

    def test_symlink_or_directory_at_an_output_path(self):
        names = ["to_precious", "dangling", "to_valid_pyc", "directory", "plain"]
        sources = {n: rlib.write(os.path.join(self.tree, "pkg", n + ".py"), "NAME = %r\n" % n) for n in names}
        pycs = {n: self.pyc(s) for n, s in sources.items()}
        os.makedirs(os.path.dirname(pycs["plain"]))
        precious = rlib.write(os.path.join(self.tmp.name, "precious"), "do not overwrite\n")
        os.symlink(precious, pycs["to_precious"])
        os.symlink(os.path.join(self.tmp.name, "nowhere"), pycs["dangling"])
        # A symlink to a correct pyc elsewhere (a symlink farm): refused all the same, left alone.
        other = os.path.join(self.tmp.name, "other")
        rlib.write(os.path.join(other, "pkg", "to_valid_pyc.py"), "NAME = 'to_valid_pyc'\n")
        self.assertEqual(self.compile(tree=other).returncode, 0)
        os.symlink(self.pyc(os.path.join(other, "pkg", "to_valid_pyc.py")), pycs["to_valid_pyc"])
        os.mkdir(pycs["directory"])
        rlib.write(os.path.join(pycs["directory"], "keep"), "contents of the directory\n")
        before = rlib.snapshot(self.tree)
        result = self.compile()
        self.report("symlinks/dirs at outputs", result)
        self.assertEqual(result.returncode, 1, rlib.dump(result))
        errors = rlib.error_lines(result.stderr)
        for n, what in [("to_precious", "a symlink"), ("dangling", "a symlink"), ("to_valid_pyc", "a symlink"),
                        ("directory", "a directory")]:
            self.assertIn(pycs[n] + ": refusing to replace %s with a pyc" % what, errors)
        self.assertEqual(len(errors), 4, rlib.dump(result))
        after = rlib.snapshot(self.tree)
        self.assertEqual({p: v for p, v in after.items() if p != pycs["plain"]}, before)
        with open(precious) as f:
            self.assertEqual(f.read(), "do not overwrite\n")
        self.assertFalse(os.path.lexists(os.path.join(self.tmp.name, "nowhere")))
        self.verify_sources([sources["plain"]])
        self.assertEqual(rlib.temporaries(self.tree), [])

    def test_fifo_at_an_output_path(self):
        """A named pipe where a pyc goes: refused, without blocking on it."""
        source = rlib.write(os.path.join(self.tree, "pkg", "m.py"), "A = 1\n")
        plain = rlib.write(os.path.join(self.tree, "pkg", "plain.py"), "B = 1\n")
        pyc = self.pyc(source)
        os.makedirs(os.path.dirname(pyc))
        os.mkfifo(pyc)
        before = rlib.snapshot(self.tree)
        result = self.compile(timeout=20)
        self.report("FIFO at an output", result)
        self.assertEqual(result.returncode, 1, rlib.dump(result))
        errors = rlib.error_lines(result.stderr)
        self.assertEqual(len(errors), 1, rlib.dump(result))
        self.assertRegex(errors[0], "^" + re.escape(pyc) + ": refusing to replace a FIFO with a pyc$")
        self.assertTrue(stat.S_ISFIFO(os.lstat(pyc).st_mode))
        self.assertEqual(rlib.snapshot(self.tree)[pyc], before[pyc])
        self.verify_sources([plain])

    # ------------------------------------------------------------ odd sources

    def test_dangling_and_looping_symlinks_as_sources(self):
        good = rlib.write(os.path.join(self.tree, "good.py"), "A = 1\n")
        rlib.write(os.path.join(self.tmp.name, "outside.py"), "B = 1\n")
        linked = os.path.join(self.tree, "linked.py")
        os.symlink(os.path.join(self.tmp.name, "outside.py"), linked)
        dangling = os.path.join(self.tree, "dangling.py")
        os.symlink(os.path.join(self.tree, "missing.py"), dangling)
        loop_a, loop_b = os.path.join(self.tree, "loop_a.py"), os.path.join(self.tree, "loop_b.py")
        os.symlink(loop_b, loop_a)
        os.symlink(loop_a, loop_b)
        os.symlink(self.tree, os.path.join(self.tree, "self"))  # a directory loop
        result = self.compile()
        self.report("symlinked sources", result)
        self.assertEqual(result.returncode, 1, rlib.dump(result))
        errors = rlib.error_lines(result.stderr)
        self.assertEqual(sorted(errors), sorted([dangling + ": dangling symlink", loop_a + ": dangling symlink",
                                                 loop_b + ": dangling symlink"]))
        self.verify_sources([good, linked])
        for name in ("dangling", "loop_a", "loop_b", "missing"):
            self.assertFalse(os.path.lexists(self.pyc(os.path.join(self.tree, name + ".py"))))
        self.assertEqual(rlib.summary(result.stderr), (2, 2, 0, 3))

    def test_directory_named_like_a_source(self):
        inner = rlib.write(os.path.join(self.tree, "x.py", "inner.py"), "A = 1\n")
        top = rlib.write(os.path.join(self.tree, "y.py"), "B = 1\n")
        for args in ([self.tree], [os.path.join(self.tree, "x.py")]):
            result = self.pycemit.run(["compile", "--python", self.python, "--source-root", self.tree] + args)
            self.report("directory named x.py", result)
            self.assertEqual(result.returncode, 0, rlib.dump(result))
            self.assertEqual(rlib.error_lines(result.stderr), [])
        self.verify_sources([inner, top])
        self.assertEqual(sorted(os.listdir(os.path.join(self.tree, "__pycache__"))), [os.path.basename(self.pyc(top))])
        self.assertEqual(lib.imported_from(self.python, self.tree, ["y"])[2], [])

    def test_unusual_file_names(self):
        """Non-UTF-8 bytes, non-ASCII UTF-8, spaces and newlines, in file and
        directory names and in the source root itself; each pyc is verified and
        imported (importlib.import_module takes any file-system name)."""
        root = os.path.join(self.tmp.name, "root with space\nand newline")
        names = {
            os.fsdecode(b"caf\xe9"): "latin-1 byte",
            "café": "UTF-8",
            "with space": "space",
            "new\nline": "newline",
            "tab\tand\rcr": "tab and carriage return",
            os.fsdecode(b"\xff\xfe"): "invalid UTF-8 only",
            "ünïcödé_ñame": "plain non-ASCII identifier",
        }
        sources = {}
        for name, what in names.items():
            sources[name] = rlib.write(os.path.join(root, name + ".py"), "WHAT = %r\n" % what)
        pkg = os.fsdecode(b"dir \xff\nx")
        sources[pkg + ".mod"] = rlib.write(os.path.join(root, pkg, "mod.py"), "IN_PACKAGE = True\n")
        rlib.write(os.path.join(root, pkg, "__init__.py"), "")
        self.tree = root
        result = self.compile("-O", "0", "-O", "2")
        self.report("unusual names", result)
        self.assertEqual(result.returncode, 0, rlib.dump(result))
        self.assertEqual(rlib.error_lines(result.stderr), [])
        self.verify_sources(lib.sources_in(root), levels=(0, 2))
        cached = rlib.import_uses_pycs(self.python, root, sorted(sources))
        for name, pyc in cached.items():
            self.assertEqual(pyc, self.pyc(sources[name]))
        cached = rlib.import_uses_pycs(self.python, root, sorted(sources), flags=["-OO"])
        self.assertEqual(set(cached), set(sources))
        # A second run finds everything current.
        result = self.compile("-O", "0", "-O", "2")
        self.assertEqual(rlib.summary(result.stderr)[1:], (0, 2 * len(lib.sources_in(root)), 0))

    def test_names_too_long_for_a_pyc(self):
        """A source name that fits NAME_MAX (255) while its pyc name does not:
        a clear error naming the pyc (importlib cannot cache it either)."""
        good = rlib.write(os.path.join(self.tree, "good.py"), "A = 1\n")
        long_sources = [rlib.write(os.path.join(self.tree, c * n + ".py"), "B = 1\n")
                        for c, n in (("a", 230), ("b", 252))]
        result = self.compile()
        self.report("names too long", result)
        errors = rlib.error_lines(result.stderr)
        for s in long_sources:
            pyc = self.pyc(s)
            if len(os.path.basename(pyc).encode()) > 255 - len(".4194304.4294967295.pycemit-tmp"):
                self.assertIn(pyc + ": cannot write: File name too long", errors)
            else:
                self.verify_sources([s])
        self.assertEqual(result.returncode, 1 if errors else 0, rlib.dump(result))
        self.verify_sources([good])
        self.assertEqual(rlib.temporaries(self.tree), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
