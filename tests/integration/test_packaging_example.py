"""Runs examples/distro/build-and-stage.sh with several
interpreters, then checks what it left behind independently of the script's own
checks: installed pycs verified inside the interpreter with their run-time
embedded paths, RECORD hashes, manifests, hardlinks; and that the script fails
when pycemit does not do its job."""
import os
import stat
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import packaging_testlib as plib  # noqa: E402
import pycemit_testlib as lib  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCRIPT = os.path.join(REPO, "examples", "distro", "build-and-stage.sh")
DIST_INFO = "tinyweather-1.0.dist-info"


class ExampleScriptTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit distro example ")
        self.addCleanup(self.tmp.cleanup)

    def run_script(self, python, work, pycemit=lib.PYCEMIT):
        env = dict(os.environ, PYTHON=python, PYCEMIT=pycemit)
        env.setdefault("PYCEMIT_CACHE_DIR", os.path.join(tempfile.gettempdir(), "pycemit-test-cache"))
        return plib.run_script(["bash", SCRIPT, work], env=env)

    def test_script_stages_compiles_installs_and_verifies(self):
        for python in plib.spread(lib.target_pythons(), 2):
            with self.subTest(python=python):
                tag = plib.python_tag(python)
                work = os.path.join(self.tmp.name, "work %s" % tag)
                result = self.run_script(python, work)
                self.assertEqual(result.returncode, 0, result.stdout[-3000:] + result.stderr[-3000:])
                self.assertIn("== OK: both packages verified", result.stdout)
                self.assertRegex(result.stderr, r"(?m)^warning: .*/_vendor/py2compat\.py:3:\d+: SyntaxError")
                for variant in ("rpm", "deb"):
                    self.check_variant(python, tag, work, variant)

    def check_variant(self, python, tag, work, variant):
        system = os.path.join(work, variant, "system root")
        site = os.path.join(system, "usr", "lib", "python" + tag, "site-packages")
        buildroot = os.path.join(work, variant, "build root")
        prefix = os.path.join(system, "var", "cache", "pyc") if variant == "deb" else None

        # The buildroot: RECORD lists the sources and every pyc, hashes right.
        rows = plib.check_record_hashes(self, buildroot + os.path.join(site, DIST_INFO, "RECORD"), buildroot + site)
        pyc_rows = [r[0] for r in rows if r[0].endswith(".pyc")]
        self.assertEqual(len(pyc_rows), 12, "6 compilable modules x levels 0 and 1")
        if prefix:
            self.assertTrue(all(p.startswith("../") and "/var/cache/pyc/" in p for p in pyc_rows), pyc_rows)
        self.assertEqual(rows[-1], [DIST_INFO + "/RECORD", "", ""])

        # The manifest names the vendored Python 2 file as skipped.
        doc = plib.load_json(os.path.join(work, variant, "pycs.json"))
        self.assertEqual([os.path.basename(s["source"]) for s in doc["skipped"]], ["py2compat.py"])
        self.assertEqual(len(doc["outputs"]), 12)
        self.assertEqual({o["status"] for o in doc["outputs"]}, {"written", "linked"})

        # Installed (oldapi.py was then removed and its pycs pruned): every remaining
        # pyc is where the interpreter looks, correct, with the run-time path embedded.
        package = os.path.join(site, "tinyweather")
        sources = [s for s in lib.sources_in(package) if not s.endswith("py2compat.py")]
        self.assertEqual(len(sources), 5)
        self.assertFalse(os.path.exists(os.path.join(package, "oldapi.py")))
        lib.verify(python, plib.expectations_for(python, sources, [0, 1], prefix=prefix))
        expected = lib.expected_paths(python, sources, [0, 1], prefix=prefix)
        installed = sorted(p for s in sources for p in expected[s].values())
        self.assertEqual(lib.outputs_in(prefix or package), installed, "exactly these pycs, no orphan left")
        plib.assert_bytes_absent(self, installed, buildroot, "staging root")
        units = os.path.join(package, "units.py")
        self.assertEqual(os.stat(expected[units][0]).st_ino, os.stat(expected[units][1]).st_ino,
                         "identical levels are hardlinked")
        forecast = os.path.join(package, "forecast.py")
        self.assertNotEqual(os.stat(expected[forecast][0]).st_ino, os.stat(expected[forecast][1]).st_ino)

    def test_script_fails_when_a_pyc_is_missing(self):
        """The script's checks have teeth: with a pycemit whose compile loses one
        pyc (and otherwise works), the script fails and says why."""
        python = lib.target_pythons()[-1]
        fake = os.path.join(self.tmp.name, "lossy pycemit")
        with open(fake, "w") as f:
            f.write('#!/bin/sh\n"%s" "$@" || exit $?\n'
                    'if [ "$1" = compile ]; then\n'
                    '  prev=; for a in "$@"; do [ "$prev" = --root ] && root=$a; prev=$a; done\n'
                    '  find "$root" -name "units.*.opt-1.pyc" -exec rm {} +\n'
                    'fi\n' % lib.PYCEMIT)
        os.chmod(fake, os.stat(fake).st_mode | stat.S_IXUSR)
        result = self.run_script(python, os.path.join(self.tmp.name, "work"), pycemit=fake)
        self.assertNotEqual(result.returncode, 0)
        self.assertNotIn("== OK", result.stdout)
        self.assertRegex(result.stdout, r"(?m)^missing .*/units\.[^/]*\.opt-1\.pyc ")

if __name__ == "__main__":
    unittest.main()
