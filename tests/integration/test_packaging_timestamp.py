"""Packaging: timestamp-mode pycs made reproducible with
SOURCE_DATE_EPOCH and --clamp-source-mtime, as Fedora's buildroot policy does
(clamp mtimes, then compile)."""
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import packaging_testlib as plib  # noqa: E402
import pycemit_testlib as lib  # noqa: E402

EPOCH = 1_700_000_000
OLD_NS = (EPOCH - 86_400) * 10**9 + 123_456_789  # a source older than the epoch (nanoseconds kept)


class ClampTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit clamp ")
        self.addCleanup(self.tmp.cleanup)

    def stage_copy(self, python, name, new_mtime):
        """The package staged under its own root, every source newer than the
        epoch (at `new_mtime`) except plain.py, which is older."""
        layout = plib.Layout(os.path.join(self.tmp.name, name), python,
                             runtime=os.path.join(self.tmp.name, "run time"))
        staged_pkg = layout.stage_package(record=False)
        for source in lib.sources_in(staged_pkg):
            os.utime(source, ns=(new_mtime, new_mtime))
        os.utime(os.path.join(staged_pkg, "plain.py"), ns=(OLD_NS, OLD_NS))
        return layout, staged_pkg

    def compile(self, python, layout, staged_pkg, *extra, epoch=EPOCH):
        env = {"SOURCE_DATE_EPOCH": str(epoch)} if epoch is not None else None
        return lib.run(plib.compile_args(python, "--root", layout.stage, "--invalidation-mode", "timestamp",
                                         "-O", "0", "-O", "1", *extra, staged_pkg), env=env)

    def test_two_copies_with_different_mtimes_give_identical_pycs(self):
        for python in plib.spread(lib.target_pythons(), 2):
            with self.subTest(python=python):
                tag = plib.python_tag(python)
                copies = [self.stage_copy(python, "%s copy %d" % (tag, i), (EPOCH + 1000 * (i + 1)) * 10**9 + 17 * i)
                          for i in range(2)]
                # Step past the stat cache's racy window (sources whose ctime is
                # this recent are never cached), so the unclamped runs below leave
                # cache entries and the clamped runs must not trust them.
                time.sleep(0.2)
                # Without clamping the headers record different mtimes.
                unclamped = []
                for layout, staged_pkg in copies:
                    self.assertEqual(self.compile(python, layout, staged_pkg).returncode, 0)
                    unclamped.append(lib.tree_digest(layout.stage))
                self.assertNotEqual(unclamped[0], unclamped[1])

                digests = []
                for layout, staged_pkg in copies:
                    result = self.compile(python, layout, staged_pkg, "--clamp-source-mtime")
                    self.assertEqual(result.returncode, 0, result.stderr)
                    self.assertIn("10 pycs written, 2 up to date", result.stderr)  # plain.py kept its mtime
                    digests.append(lib.tree_digest(layout.stage))
                    for source in lib.sources_in(staged_pkg):
                        st = os.stat(source)
                        if os.path.basename(source) == "plain.py" and os.path.dirname(source) == staged_pkg:
                            self.assertEqual(st.st_mtime_ns, OLD_NS, "an older source keeps its mtime")
                        else:
                            self.assertEqual(st.st_mtime_ns, EPOCH * 10**9, "a newer source is clamped")
                self.assertEqual(len(digests[0]), 12)
                self.assertEqual(digests[0], digests[1])

                # The interpreter accepts them (header = the clamped stamp), after installation too.
                layout, staged_pkg = copies[0]
                sources = lib.sources_in(staged_pkg)
                lib.verify(python, plib.expectations_for(python, sources, [0, 1], mode="timestamp",
                                                 embedded=lambda s: s[len(layout.stage):]))
                before = {s: os.stat(s).st_mtime_ns for s in sources}
                again = self.compile(python, layout, staged_pkg, "--clamp-source-mtime")
                self.assertIn("0 pycs written, 12 up to date", again.stderr)
                self.assertEqual({s: os.stat(s).st_mtime_ns for s in sources}, before)
                layout.install()  # (os.rename keeps mtimes, as rpm and dpkg do)
                expected = lib.expected_paths(python, lib.sources_in(layout.package), [0, 1])
                for flags, level in (([], 0), (["-O"], 1)):
                    files, loaded, stale = lib.imported_from(python, layout.site, plib.MODULES, flags=flags)
                    self.assertEqual(stale, [])
                    for module, source in files.items():
                        self.assertIn(expected[source][level], loaded, module)
                os.rename(layout.runtime, os.path.join(self.tmp.name, "installed " + tag))  # room for the next

    def test_clamping_needs_the_epoch_and_timestamp_mode(self):
        python = lib.target_pythons()[-1]
        layout, staged_pkg = self.stage_copy(python, "refused", (EPOCH + 5) * 10**9)
        mtimes = {s: os.stat(s).st_mtime_ns for s in lib.sources_in(staged_pkg)}
        no_epoch = lib.run(plib.compile_args(python, "--root", layout.stage, "--invalidation-mode", "timestamp",
                                             "--clamp-source-mtime", staged_pkg),
                           env={"SOURCE_DATE_EPOCH": ""})
        self.assertEqual(no_epoch.returncode, 2)
        self.assertIn("SOURCE_DATE_EPOCH", no_epoch.stderr)
        hash_mode = lib.run(plib.compile_args(python, "--root", layout.stage, "--clamp-source-mtime", staged_pkg),
                            env={"SOURCE_DATE_EPOCH": str(EPOCH)})
        self.assertEqual(hash_mode.returncode, 2)
        self.assertIn("timestamp", hash_mode.stderr)
        self.assertEqual({s: os.stat(s).st_mtime_ns for s in lib.sources_in(staged_pkg)}, mtimes,
                         "a refused run touches no source")
        self.assertEqual(lib.outputs_in(layout.stage), [])


if __name__ == "__main__":
    unittest.main()
