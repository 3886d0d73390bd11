"""Meson 1.2 and later only: pycemit next to Meson's own byte-compilation, on one project.

Meson 1.2 added `python.bytecompile` (default 0): at the end of `meson install` it runs
compileall on every file py.install_sources() installed. Meson 1.0 and 1.1 have no such
thing, so this test runs only with Meson >= 1.2 (TOOL_REQUIREMENT below; ctest registers it
only for such a Meson, as integration.meson_builtin_bytecompile.<version>).

examples/meson is installed both ways with the newest interpreter (found by Meson's own
python module): `-Dbytecode=none -Dpython.bytecompile=2` (Meson's own, levels 0 to 2) and
`-Dbytecode=build -Dbytecode_levels=0,1,2 -Dpython.bytecompile=-1` (pycemit's build-time
form); switching is one option. Measured and asserted, for docs/meson.md's comparison:

  * output names: the same files (what the interpreter's cache_from_source names);
  * embedded paths: both embed the final installed path, never DESTDIR;
  * both sets are used by the interpreter (-v, --check-hash-based-pycs always);
  * reproducibility: a second checkout (sources with other mtimes, as a fresh clone has)
    in a second build directory: Meson's timestamp pycs differ (only in the header's
    mtime field), pycemit's are byte-identical; with SOURCE_DATE_EPOCH set, Meson's are
    checked-hash and equal too, but not the bytes pycemit writes (which re-serialises
    the marshal data canonically);
  * `ninja uninstall` (mesonbuild/meson#12798): Meson's pycs and __pycache__ stay,
    pycemit's build-time form leaves nothing;
  * a second `meson install --only-changed` (mesonbuild/meson#15531): Meson compiles and
    rewrites every pyc again, pycemit's are preserved (same inode and mtime); the wall
    times are printed;
  * the guard: with Meson's default python.bytecompile=0 the example refuses to configure
    and names the fix; without the guard, Meson's timestamp pycs silently replace
    pycemit's level-0 pycs (what the guard is for).
"""
import os
import struct
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import meson_testlib as mt  # noqa: E402
import pycemit_testlib as lib  # noqa: E402

TOOL_REQUIREMENT = "meson >= 1.2"

BUILTIN = {"bytecode": "none", "python.bytecompile": "2"}
PYCEMIT = {"bytecode": "build", "bytecode_levels": "0,1,2", "python.bytecompile": "-1"}
LEVELS = [0, 1, 2]
FLAGS = {"timestamp": 0, "checked-hash": 3}
GUARD = "if python_module_works and meson.version().version_compare('>=1.2.0')"


# Extra modules for the --only-changed measurement.
BULK = 300


def add_modules(source, count):
    """Adds chime/bulk/m<N>.py (N < count) to a copy of the example's package."""
    bulk = os.path.join(source, "chime", "bulk")
    os.makedirs(bulk)
    names = []
    for n in range(count):
        names.append("bulk/m%03d.py" % n)
        with open(os.path.join(bulk, "m%03d.py" % n), "w") as f:
            f.write('"""Module %d."""\n\n\ndef value(x):\n    return {%d: x, "n": [x] * %d}\n' % (n, n, n % 7))
    path = os.path.join(source, "chime", "meson.build")
    with open(path) as f:
        text = f.read()
    end = text.index("\n)\n") + 3  # the end of `chime_sources = files(...)`
    with open(path, "w") as f:
        f.write(text[:end] + "chime_sources += files(%s)\n" % ", ".join("'%s'" % n for n in names) + text[end:])


def header_flags(pyc):
    with open(pyc, "rb") as f:
        return struct.unpack("<I", f.read(8)[4:8])[0]


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Checkout:
    """One copy of the example and its build directories, by name."""

    def __init__(self, root, name, environ, python, prefix):
        self.root, self.environ, self.python, self.prefix = root, environ, python, prefix
        self.source = mt.copy_example(os.path.join(root, name))

    def configure(self, build_name, options, extra_env=None):
        build = os.path.join(self.root, build_name)
        environ = dict(self.environ, **(extra_env or {}))
        mt.setup(self.source, build, self.prefix, dict(options, python=self.python), environ)
        return build

    def install(self, build, destdir, extra_env=None, only_changed=False):
        """`meson install` into `destdir`; returns (wall time in s, output)."""
        start = time.monotonic()
        result = mt.install(build, dict(self.environ, **(extra_env or {})), destdir=destdir,
                            only_changed=only_changed)
        return time.monotonic() - start, result.output


class BuiltinBytecompileTest(mt.ExampleChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        mt.tool("ninja")
        if not mt.has_builtin_bytecompile():
            raise AssertionError("Meson %s has no python.bytecompile: this test is for Meson >= 1.2"
                                 % ".".join(map(str, mt.meson_version())))
        cls.tmp = tempfile.TemporaryDirectory(prefix="pycemit meson builtin ")
        root = cls.tmp.name
        cls.env = mt.env(path_first=mt.tool_dir(root))
        _, _, cls.python = mt.pick_pythons()
        cls.prefix = os.path.join(root, "final root", "usr")
        cls.first = Checkout(root, "checkout one", cls.env, cls.python, cls.prefix)
        cls.second = Checkout(root, "checkout two", cls.env, cls.python, cls.prefix)
        # A second clone: the same bytes, other modification times.
        later = time.time() + 3600
        for source in lib.sources_in(cls.second.source):
            os.utime(source, (later, later))

        cls.stage = {}
        cls.builds = {}
        for checkout, which in ((cls.first, "one"), (cls.second, "two")):
            for form, options in (("builtin", BUILTIN), ("pycemit", PYCEMIT)):
                build = checkout.configure("%s build %s" % (form, which), options)
                destdir = os.path.join(root, "%s stage %s" % (form, which))
                checkout.install(build, destdir)
                cls.builds[form, which] = build
                cls.stage[form, which] = destdir
        cls.source = cls.first.source       # for ExampleChecks
        cls.build = cls.builds["pycemit", "one"]
        cls.package = cls.package_dir_of(cls.build)
        cls.measured = []

    @classmethod
    def tearDownClass(cls):
        if cls.measured:
            print("\nmeasured with Meson %s, %s:\n  %s" % (".".join(map(str, mt.meson_version())), cls.python,
                                                           "\n  ".join(cls.measured)), file=sys.stderr)
        cls.tmp.cleanup()

    @classmethod
    def package_dir_of(cls, build):
        for origin, final in mt.installed(build, cls.env).items():
            if origin.endswith(os.path.join("", "chime", "__init__.py")):
                return os.path.dirname(final)
        raise AssertionError("no chime package installed by %s" % build)

    def pycs(self, form, which="one"):
        """{path relative to the package: pyc path} of an install."""
        tree = mt.staged(self.stage[form, which], self.package)
        return {os.path.relpath(p, tree): p for p in mt.files_under(tree, ".pyc")}

    # ---- what is installed ----------------------------------------------------

    def test_same_names_same_embedded_paths(self):
        builtin, ours = self.pycs("builtin"), self.pycs("pycemit")
        sources = [os.path.join(self.package, rel) for rel in mt.EXAMPLE_SOURCES]
        expected = lib.expected_paths(self.python, sources, LEVELS)
        wanted = sorted(os.path.relpath(p, self.package) for by_level in expected.values() for p in by_level.values())
        self.assertEqual(sorted(builtin), wanted)
        self.assertEqual(sorted(ours), wanted)
        for form, pycs in (("builtin", builtin), ("pycemit", ours)):
            names = mt.code_filenames(self.python, sorted(pycs.values()))
            for source, by_level in expected.items():
                for pyc in by_level.values():
                    staged = pycs[os.path.relpath(pyc, self.package)]
                    self.assertEqual(names[staged], [source], "%s: co_filename of %s" % (form, staged))
            self.assertEqual({header_flags(p) for p in pycs.values()},
                             {FLAGS["timestamp" if form == "builtin" else "checked-hash"]}, form)
        self.measured.append("names: the same %d files; co_filename: the final path in both" % len(wanted))

    def test_both_are_used_by_the_interpreter(self):
        for form in ("builtin", "pycemit"):
            site = os.path.dirname(mt.staged(self.stage[form, "one"], self.package))
            pycs = self.pycs(form)
            for level in LEVELS:
                files, loaded, stale = lib.imported_from(self.python, site, mt.EXAMPLE_MODULES, ["-O"] * level)
                self.assertEqual(stale, [], form)
                suffix = ".opt-%d.pyc" % level if level else ".pyc"
                used = sorted(p for p in loaded if p.startswith(site) and p.endswith(suffix)
                              and ".opt-" not in p[:-len(suffix)].rsplit("/", 1)[-1])
                self.assertEqual(len(used), len(mt.EXAMPLE_MODULES), "%s level %d: %s" % (form, level, loaded))
                self.assertTrue(set(used) <= set(pycs.values()), form)

    def test_reproducible_across_checkouts(self):
        ours_one, ours_two = self.pycs("pycemit", "one"), self.pycs("pycemit", "two")
        self.assertEqual({r: read(p) for r, p in ours_one.items()}, {r: read(p) for r, p in ours_two.items()})

        builtin_one, builtin_two = self.pycs("builtin", "one"), self.pycs("builtin", "two")
        self.assertEqual(sorted(builtin_one), sorted(builtin_two))
        differ = [r for r in builtin_one if read(builtin_one[r]) != read(builtin_two[r])]
        self.assertEqual(sorted(differ), sorted(builtin_one), "every timestamp pyc records its source's mtime")
        for rel in builtin_one:
            one, two = read(builtin_one[rel]), read(builtin_two[rel])
            self.assertNotEqual(one[8:12], two[8:12], rel)              # the mtime field
            self.assertEqual(one[:8] + one[12:], two[:8] + two[12:], rel)  # nothing else
        self.measured.append("two checkouts (other mtimes): Meson's %d pycs all differ (mtime field only), "
                             "pycemit's identical" % len(builtin_one))

    def test_source_date_epoch_makes_builtin_checked_hash(self):
        """With SOURCE_DATE_EPOCH, compileall writes checked-hash pycs: the same from both
        checkouts, but other bytes than pycemit's canonical ones."""
        sde = {"SOURCE_DATE_EPOCH": "1700000000"}
        stages = []
        for checkout, which in ((self.first, "one"), (self.second, "two")):
            build = checkout.configure("builtin sde build %s" % which, BUILTIN, sde)
            destdir = os.path.join(self.tmp.name, "builtin sde stage " + which)
            checkout.install(build, destdir, sde)
            stages.append(destdir)
        trees = [mt.staged(d, self.package) for d in stages]
        one, two = lib.tree_digest(trees[0]), lib.tree_digest(trees[1])
        self.assertEqual(one, two)
        self.assertEqual({header_flags(p) for p in mt.files_under(trees[0], ".pyc")}, {FLAGS["checked-hash"]})
        ours = {r: read(p) for r, p in self.pycs("pycemit").items()}
        same = [r for r in ours if read(os.path.join(trees[0], r)) == ours[r]]
        self.measured.append("SOURCE_DATE_EPOCH: Meson's pycs are checked-hash and equal across checkouts; "
                             "%d of %d byte-equal to pycemit's" % (len(same), len(ours)))
        # Same headers (flags and source hash): the difference is in the marshal data.
        for rel, data in ours.items():
            self.assertEqual(read(os.path.join(trees[0], rel))[:16], data[:16], rel)

    # ---- uninstall and reinstall ------------------------------------------------

    def test_uninstall_leaves_builtin_pycs(self):
        for form in ("builtin", "pycemit"):
            build = self.builds[form, "one"]
            destdir = os.path.join(self.tmp.name, "%s uninstall stage" % form)
            self.first.install(build, destdir)
            pycs = mt.files_under(destdir, ".pyc")
            count = len(pycs)
            mt.uninstall(build, self.env)
            left = mt.files_under(destdir) if os.path.exists(destdir) else []
            if form == "builtin":
                # mesonbuild/meson#12798: the pycs are in no install log; every other file goes.
                self.assertEqual(left, pycs)
                self.assertEqual(len(mt.dirs_named(destdir, "__pycache__")), 2)
            else:
                self.assertFalse(os.path.exists(destdir), left)
            self.measured.append("ninja uninstall, %s: %d of %d pycs left" % (form, len(left), count))

    def test_only_changed_reinstall(self):
        """On a copy of the example with BULK more modules, to make the cost visible."""
        bulk = Checkout(self.tmp.name, "bulk", self.env, self.python, self.prefix)
        add_modules(bulk.source, BULK)
        for form, options in (("builtin", BUILTIN), ("pycemit", PYCEMIT)):
            build = bulk.configure("%s bulk build" % form, options)
            destdir = os.path.join(self.tmp.name, "%s only-changed stage" % form)
            first, _ = bulk.install(build, destdir)
            before = mt.snapshot(mt.files_under(destdir, ".pyc"))
            self.assertEqual(len(before), (len(mt.EXAMPLE_SOURCES) + BULK) * len(LEVELS))
            seconds, output = bulk.install(build, destdir, only_changed=True)
            self.assertIn("Preserved", output)
            after = mt.snapshot(mt.files_under(destdir, ".pyc"))
            self.assertEqual(sorted(after), sorted(before))
            rewritten = [p for p in before if before[p][:2] != after[p][:2]]
            if form == "builtin":
                # mesonbuild/meson#15531: compileall(force=True) runs again on every file.
                self.assertEqual(sorted(rewritten), sorted(before))
                self.assertEqual({p: v[2] for p, v in after.items()}, {p: v[2] for p, v in before.items()})
            else:
                self.assertEqual(rewritten, [])
            self.measured.append("%d modules, %s: first install %.2f s; meson install --only-changed: "
                                 "%d of %d pycs rewritten, %.2f s"
                                 % (len(mt.EXAMPLE_SOURCES) + BULK, form, first, len(rewritten), len(before),
                                    seconds))

    # ---- the guard --------------------------------------------------------------

    def test_default_bytecompile_is_refused(self):
        options = dict(PYCEMIT, python=self.python)
        del options["python.bytecompile"]
        result = mt.run([mt.tool("meson"), "setup", os.path.join(self.tmp.name, "refused build"),
                         self.first.source, "--prefix", self.prefix]
                        + ["-D%s=%s" % item for item in sorted(options.items())], self.env, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("python.bytecompile=0", result.output)
        self.assertIn("configure with -Dpython.bytecompile=-1", result.output)

    def test_without_the_guard_builtin_silently_replaces_level_0(self):
        """What the guard prevents: Meson's install-time compileall runs after the pycs
        are installed and rewrites the level-0 ones as timestamp pycs."""
        unguarded = Checkout(self.tmp.name, "unguarded", self.env, self.python, self.prefix)
        path = os.path.join(unguarded.source, "meson.build")
        with open(path) as f:
            text = f.read()
        self.assertIn(GUARD, text)
        with open(path, "w") as f:
            f.write(text.replace(GUARD, "if false"))
        options = dict(PYCEMIT)
        del options["python.bytecompile"]                  # Meson's default, 0
        build = unguarded.configure("unguarded build", options)
        destdir = os.path.join(self.tmp.name, "unguarded stage")
        _, output = unguarded.install(build, destdir)
        self.assertNotIn("ERROR", output)
        tree = mt.staged(destdir, self.package)
        by_level = {}
        for pyc in mt.files_under(tree, ".pyc"):
            level = int(pyc.split(".opt-")[1][0]) if ".opt-" in pyc else 0
            by_level.setdefault(level, set()).add(header_flags(pyc))
        self.assertEqual(by_level, {0: {FLAGS["timestamp"]}, 1: {FLAGS["checked-hash"]},
                                    2: {FLAGS["checked-hash"]}})


if __name__ == "__main__":
    unittest.main(verbosity=2)
