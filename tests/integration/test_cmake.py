"""add_python_bytecode() (cmake-modules/PycEmit.cmake) in real CMake builds.

The PycEmit package is installed from the build tree under test into a
temporary prefix; copies of examples/cmake (and small scratch projects) find it
with find_package(PycEmit CONFIG REQUIRED), are configured, built with Ninja,
Ninja Multi-Config and Unix Makefiles, and installed (with DESTDIR, or for real).
Checked on real interpreters: output names (the interpreter's own
cache_from_source), incremental builds (mtimes, `ninja: no work to do`),
rebuilds on changed settings, the embedded path (co_filename read with marshal
inside the interpreter) being the installed path, no build or staging path in
any pyc, verify_pycs.py, and the interpreter importing the installed pycs
(-v, --check-hash-based-pycs always).
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import cmake_testlib as cmk  # noqa: E402
import pycemit_testlib as lib  # noqa: E402

FLAGS = {"checked-hash": 3, "unchecked-hash": 1, "timestamp": 0}
# The final (run-time) install prefix of the DESTDIR installs: never created.
FINAL_PREFIX = "/opt/pycemit example"


def pick_pythons():
    """Three interpreters with different cache tags where possible: the newest
    for most checks, the oldest for "reconfigure with another Python", one in
    between for the Makefiles generator. Fails with fewer than three installed."""
    pythons = lib.target_pythons()
    if len(pythons) < 2:  # PYCEMIT_TEST_PYTHON names one: take the others from the machine
        pythons = pythons + [p for p in lib.interpreters.require_cpythons() if p not in pythons]
    by_tag = {}
    for python in pythons:
        by_tag.setdefault(cmk.cache_tag(python), python)
    distinct = [by_tag[t] for t in sorted(by_tag, key=lambda t: lib.python_version(by_tag[t]))]
    if len(distinct) < 2:
        raise AssertionError("need interpreters with two different cache tags, found: %s" % pythons)
    main, other = distinct[-1], distinct[0]
    middle = distinct[len(distinct) // 2] if len(distinct) > 2 else other
    return main, other, middle


class CMakeTestBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="pycemit cmake ")
        cls.prefix = os.path.join(cls.tmp.name, "pycemit prefix")
        cmk.install_package(cls.prefix)
        cls.python, cls.other_python, cls.make_python = pick_pythons()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    # ---- set-up ---------------------------------------------------------------
    def example(self, name, python, generator="Ninja", **defs):
        """Copies the example to <tmp>/<name>/example src, configures it into
        <tmp>/<name>/example build. Returns (source dir, build dir)."""
        base = os.path.join(self.tmp.name, name)
        src = cmk.copy_example(os.path.join(base, "example src"))
        build = os.path.join(base, "example build")
        self.settings = {"CMAKE_PREFIX_PATH": self.prefix, "Python3_EXECUTABLE": python,
                         "CMAKE_INSTALL_PREFIX": FINAL_PREFIX, "PYCEMIT_VERBOSE": "ON"}
        self.settings.update(defs)
        configured = cmk.configure(src, build, generator, self.settings)
        # No policy, range or deprecation warnings, with CMake 3.25 and 4.x alike.
        self.assertEqual(cmk.cmake_warnings(configured.output), [], configured.output[-4000:])
        return src, build

    def reconfigure(self, src, build, generator="Ninja", **defs):
        self.settings.update(defs)
        return cmk.configure(src, build, generator, self.settings)

    # ---- expectations -----------------------------------------------------------
    @staticmethod
    def output_root(build):
        return os.path.join(build, "pycemit", "inventory_bytecode")

    @staticmethod
    def install_root(python, prefix=FINAL_PREFIX):
        return prefix + "/" + cmk.python_dir(python)

    def expected_outputs(self, python, build, levels, prefix=FINAL_PREFIX):
        """{relative source: {level: build-tree pyc}} for the __pycache__ layout,
        named by the interpreter's own cache_from_source at the installed path."""
        root = self.install_root(python, prefix)
        runtime = lib.expected_paths(python, [root + "/" + rel for rel in cmk.EXAMPLE_SOURCES], levels)
        return {rel: {level: os.path.join(self.output_root(build), os.path.relpath(pyc, root))
                      for level, pyc in runtime[root + "/" + rel].items()}
                for rel in cmk.EXAMPLE_SOURCES}

    def assert_outputs(self, python, build, levels, prefix=FINAL_PREFIX):
        """The build tree holds exactly the expected pycs; returns {rel: {level: pyc}}."""
        expected = self.expected_outputs(python, build, levels, prefix)
        want = sorted(p for by_level in expected.values() for p in by_level.values())
        self.assertEqual(cmk.pycs_in(self.output_root(build)), want)
        return expected

    def assert_embedded(self, python, pycs_by_rel, root, mode=None):
        """Every code object in each pyc names root/<rel>; flags match `mode`."""
        info = cmk.pyc_info(python, [p for by_level in pycs_by_rel.values() for p in by_level.values()])
        for rel, by_level in pycs_by_rel.items():
            for pyc in by_level.values():
                self.assertEqual(info[pyc]["filenames"], [root + "/" + rel], pyc)
                if mode:
                    self.assertEqual(info[pyc]["flags"], FLAGS[mode], pyc)

    def assert_no_leaks(self, pycs, *paths):
        """No pyc contains any of `paths` (build tree, source copy, DESTDIR)."""
        needles = [p.encode() for p in paths if p]
        for pyc in pycs:
            with open(pyc, "rb") as f:
                data = f.read()
            for needle in needles:
                self.assertNotIn(needle, data, "%s contains %s" % (pyc, needle))

    def check_pycache_install(self, python, src, build, levels, mode, destdir, prefix=FINAL_PREFIX):
        """The installed tree (under DESTDIR) holds the sources and exactly the
        pycs the interpreter looks for, naming the final path, verified and
        used on import at every level."""
        final_root = self.install_root(python, prefix)
        staged_root = (destdir or "") + final_root
        staged_sources = [staged_root + "/" + rel for rel in cmk.EXAMPLE_SOURCES]
        expected = lib.expected_paths(python, staged_sources, levels)
        want = sorted(staged_sources + [p for by_level in expected.values() for p in by_level.values()])
        got = sorted(os.path.join(d, f) for d, _, files in os.walk(staged_root) for f in files)
        self.assertEqual(got, want)
        for rel in cmk.EXAMPLE_SOURCES:
            with open(os.path.join(src, "src", rel), "rb") as a, open(staged_root + "/" + rel, "rb") as b:
                self.assertEqual(a.read(), b.read(), rel)
        by_rel = {rel: expected[staged_root + "/" + rel] for rel in cmk.EXAMPLE_SOURCES}
        self.assert_embedded(python, by_rel, final_root, mode)
        pycs = [p for by_level in by_rel.values() for p in by_level.values()]
        self.assert_no_leaks(pycs, build, src, destdir)
        lib.verify(python, [{"source": staged_root + "/" + rel, "pyc": pyc, "optimize": level, "mode": mode,
                             "embedded": final_root + "/" + rel}
                            for rel, by_level in by_rel.items() for level, pyc in by_level.items()])
        for level in levels:
            self.assert_imported(python, staged_root, {rel: by_rel[rel][level] for rel in by_rel}, level)
        return by_rel

    def assert_imported(self, python, path_entry, pyc_of_rel, level, flags=()):
        """Imports the example's modules from `path_entry` at `level`: each
        module's code came from its pyc, none was rejected, and the code really
        is of that level."""
        flags = list(flags) + ["-O"] * level
        files, loaded, stale = lib.imported_from(python, path_entry, cmk.EXAMPLE_MODULES, flags)
        self.assertEqual(stale, [])
        for module, file in files.items():
            rel = os.path.relpath(file, path_entry)
            if rel.endswith(".pyc"):  # sourceless: __file__ is the pyc
                rel = rel[:-1]
            self.assertIn(pyc_of_rel[rel], loaded, "%s (level %d) was not loaded from its pyc" % (module, level))
        code = "import sys; sys.path.insert(0, %r); import inventory; print(inventory.optimization_level())" % path_entry
        out = subprocess.run([python, "-S", "-B"] + flags + ["-c", code], capture_output=True, text=True,
                                 env=cmk.build_env(), check=True)
        self.assertEqual(out.stdout.strip(), str(level))

    def compiled(self, output, sources=cmk.EXAMPLE_SOURCES):
        """Sources whose pycs pycemit wrote in this build (PYCEMIT_VERBOSE: `wrote <pyc>`)."""
        return cmk.written_sources(output, sources)

    def checked(self, output, sources=cmk.EXAMPLE_SOURCES):
        """Sources whose pycs pycemit found up to date and left alone in this build."""
        return cmk.written_sources(output, sources, "unchanged")


    def edit(self, path, text):
        with open(path, "a") as f:
            f.write(text)


class NinjaTest(CMakeTestBase):
    def test_build_incremental_install_import(self):
        python = self.python
        src, build = self.example("ninja", python)
        first = cmk.build(build)
        self.assertEqual(self.compiled(first.output), sorted(cmk.EXAMPLE_SOURCES))
        outputs = self.assert_outputs(python, build, [0, 1, 2])
        all_pycs = [p for by_level in outputs.values() for p in by_level.values()]
        self.assert_one_command(build, all_pycs)
        # The build tree's pycs already embed the installed path.
        self.assert_embedded(python, outputs, self.install_root(python), "checked-hash")
        self.assert_no_leaks(all_pycs, build, src)

        # Nothing changed: nothing runs, nothing is rewritten.
        before = cmk.mtimes(all_pycs)
        again = cmk.build(build)
        self.assertIn("ninja: no work to do", again.output)
        explain = cmk.run([cmk.tool("ninja"), "-C", build, "-n", "-d", "explain"])
        self.assertNotIn("is dirty", explain.output)
        self.assertEqual(cmk.mtimes(all_pycs), before)

        # One source edited: only its command runs, only its pycs change.
        model = os.path.join(src, "src", "inventory", "model.py")
        self.edit(model, "\nEDITED = True\n")
        edited = cmk.build(build)
        self.assertEqual(self.compiled(edited.output), ["inventory/model.py"])
        after = cmk.mtimes(all_pycs)
        changed = sorted(p for p in all_pycs if after[p] != before[p])
        self.assertEqual(changed, sorted(outputs["inventory/model.py"].values()))
        self.assertIn("ninja: no work to do", cmk.build(build).output)

        # Touched but not changed: the command runs, pycemit leaves the pycs
        # alone (same mtimes), and Ninja (restat) then knows they are up to date.
        summary = os.path.join(src, "src", "inventory", "report", "summary.py")
        os.utime(summary)
        touched = cmk.build(build)
        self.assertIn("inventory/report/summary.py", self.checked(touched.output))
        self.assertEqual(self.compiled(touched.output), [])
        self.assertEqual(cmk.mtimes(all_pycs), after)
        self.assertIn("ninja: no work to do", cmk.build(build).output)

        # DESTDIR install: the final path is embedded, never the staging or build path.
        destdir = os.path.join(self.tmp.name, "ninja", "stage dir")
        installed = cmk.install(build, destdir=destdir)
        self.assertNotIn("WARNING", installed.output)
        self.check_pycache_install(python, src, build, [0, 1, 2], "checked-hash", destdir)

        # A syntax error fails the build with pycemit's file:line:col message and
        # keeps that source's existing pycs; a source edited at the same time (in
        # the same pycemit run, with Ninja) is still compiled, and no other pyc is
        # touched.
        with open(summary) as f:
            good = f.read()
        self.edit(summary, "\ndef broken(:\n    pass\n")
        csvfile = os.path.join(src, "src", "inventory", "io", "csvfile.py")
        self.edit(csvfile, "\nALSO_EDITED = True\n")
        failed = cmk.build(build, check=False)
        self.assertNotEqual(failed.returncode, 0)
        self.assertRegex(failed.output, re.escape(summary) + r":\d+:\d+: SyntaxError: ")
        self.assertEqual(self.compiled(failed.output), ["inventory/io/csvfile.py"])
        broken = cmk.mtimes(all_pycs)
        self.assertEqual(sorted(p for p in all_pycs if broken[p] != after[p]),
                         sorted(outputs["inventory/io/csvfile.py"].values()))
        with open(summary, "w") as f:
            f.write(good)
        fixed = cmk.build(build)
        self.assertEqual(self.compiled(fixed.output), [])  # its pycs were never replaced
        self.assertEqual(cmk.mtimes(all_pycs), broken)
        self.assertIn("ninja: no work to do", cmk.build(build).output)

    def assert_one_command(self, build, all_pycs):
        """build.ninja has one pycemit command for the target: every pyc is one of its
        outputs, it is restat, in the job pool `pycemit` of depth 1, and its sources come
        from a path list, not its command line."""
        with open(os.path.join(build, "build.ninja")) as f:
            ninja = f.read()
        edges = [e for e in ninja.split("\n\n") if " compile " in e and "pycemit" in e]
        self.assertEqual(len(edges), 1, edges)
        edge = edges[0]
        outputs = edge.split(":", 1)[0]
        for pyc in all_pycs:
            self.assertIn(os.path.relpath(pyc, build).replace(" ", "$ "), outputs)
        self.assertRegex(edge, r"\n  restat = 1\b")
        self.assertRegex(edge, r"\n  pool = pycemit\b")
        command = re.search(r"\n  COMMAND = (.*)", edge).group(1)
        self.assertIn("@" + os.path.join(build, "pycemit", "inventory_bytecode.sources"), command)
        self.assertNotIn("model.py", command)
        with open(os.path.join(build, "CMakeFiles", "rules.ninja")) as f:
            self.assertRegex(f.read(), r"\npool pycemit\n  depth = 1\n")

    def test_changed_settings_rebuild(self):
        python, other = self.python, self.other_python
        src, build = self.example("settings", python)
        cmk.build(build)
        outputs = self.assert_outputs(python, build, [0, 1, 2])
        all_pycs = [p for by_level in outputs.values() for p in by_level.values()]
        before = cmk.mtimes(all_pycs)

        # Invalidation mode: every command reruns, every pyc is rewritten.
        self.reconfigure(src, build, INVENTORY_INVALIDATION_MODE="UNCHECKED_HASH")
        result = cmk.build(build)
        self.assertEqual(self.compiled(result.output), sorted(cmk.EXAMPLE_SOURCES))
        after = cmk.mtimes(all_pycs)
        self.assertTrue(all(after[p] != before[p] for p in all_pycs))
        self.assert_embedded(python, outputs, self.install_root(python), "unchecked-hash")
        self.assertIn("ninja: no work to do", cmk.build(build).output)

        # Levels: pycemit runs again (its .opt-1 pycs are already right: left
        # alone); only the chosen level is declared and installed.
        self.reconfigure(src, build, INVENTORY_OPTIMIZE="1")
        levels = cmk.build(build).output
        self.assertEqual(sorted(set(self.compiled(levels) + self.checked(levels))), sorted(cmk.EXAMPLE_SOURCES))
        self.assertIn("ninja: no work to do", cmk.build(build).output)
        destdir = os.path.join(self.tmp.name, "settings", "stage opt1")
        cmk.install(build, destdir=destdir)
        installed = cmk.pycs_in(destdir)
        self.assertEqual(len(installed), len(cmk.EXAMPLE_SOURCES))
        self.assertTrue(all(p.endswith(".opt-1.pyc") for p in installed), installed)

        # Layout: sourceless pycs appear in the build tree.
        self.reconfigure(src, build, INVENTORY_LAYOUT="SOURCELESS")
        self.assertEqual(self.compiled(cmk.build(build).output), sorted(cmk.EXAMPLE_SOURCES))
        for rel in cmk.EXAMPLE_SOURCES:
            self.assertTrue(os.path.isfile(os.path.join(self.output_root(build), rel[:-3] + ".pyc")), rel)

        # Another interpreter (and timestamp mode): its cache tag names the pycs,
        # which it verifies and imports after a DESTDIR install (install keeps
        # the sources' mtimes, so timestamp pycs stay valid).
        self.reconfigure(src, build, Python3_EXECUTABLE=other, INVENTORY_LAYOUT="PYCACHE",
                         INVENTORY_OPTIMIZE="0;1;2", INVENTORY_INVALIDATION_MODE="TIMESTAMP")
        self.assertEqual(self.compiled(cmk.build(build).output), sorted(cmk.EXAMPLE_SOURCES))
        tag = cmk.cache_tag(other)
        self.assertNotEqual(tag, cmk.cache_tag(python))
        other_outputs = self.expected_outputs(other, build, [0, 1, 2])
        for by_level in other_outputs.values():
            for pyc in by_level.values():
                self.assertIn("." + tag + ".", os.path.basename(pyc))
                self.assertTrue(os.path.isfile(pyc), pyc)
        self.assertIn("ninja: no work to do", cmk.build(build).output)
        destdir = os.path.join(self.tmp.name, "settings", "stage other")
        cmk.install(build, destdir=destdir)
        self.check_pycache_install(other, src, build, [0, 1, 2], "timestamp", destdir)


class GeneratorsTest(CMakeTestBase):
    def test_unix_makefiles(self):
        python = self.make_python
        src, build = self.example("make", python, "Unix Makefiles")
        first = cmk.build(build)
        self.assertEqual(self.compiled(first.output), sorted(cmk.EXAMPLE_SOURCES))
        # One pycemit run compiled them all: no per-source command had anything left to do.
        self.assertEqual(first.output.count("Compiling Python bytecode"), 1, first.output)
        self.assertNotIn("Checking Python bytecode", first.output)
        outputs = self.assert_outputs(python, build, [0, 1, 2])
        all_pycs = [p for by_level in outputs.values() for p in by_level.values()]
        before = cmk.mtimes(all_pycs)
        self.assertEqual(self.compiled(cmk.build(build).output), [])
        self.assertEqual(cmk.mtimes(all_pycs), before)

        csvfile = os.path.join(src, "src", "inventory", "io", "csvfile.py")
        self.edit(csvfile, "\nDIALECT = 'excel'\n")
        edited = cmk.build(build).output
        self.assertEqual(self.compiled(edited), ["inventory/io/csvfile.py"])
        self.assertNotIn("Checking Python bytecode", edited)
        after = cmk.mtimes(all_pycs)
        changed = sorted(p for p in all_pycs if after[p] != before[p])
        self.assertEqual(changed, sorted(outputs["inventory/io/csvfile.py"].values()))
        self.assertEqual(self.compiled(cmk.build(build).output), [])

        # Touched, unchanged: the target's pycemit run rewrites nothing, the source's own
        # command (Make has no restat) finds its pycs up to date and touches them; then
        # nothing runs.
        os.utime(csvfile)
        touched = cmk.build(build).output
        self.assertIn("inventory/io/csvfile.py", self.checked(touched))
        self.assertEqual(self.compiled(touched), [])
        self.assertIn("Checking Python bytecode", touched)
        again = cmk.build(build).output
        self.assertEqual(self.checked(again) + self.compiled(again), [])

        # Changed settings rebuild with Make too (it has no command-line tracking).
        self.reconfigure(src, build, "Unix Makefiles", INVENTORY_INVALIDATION_MODE="UNCHECKED_HASH")
        self.assertEqual(self.compiled(cmk.build(build).output), sorted(cmk.EXAMPLE_SOURCES))
        self.assert_embedded(python, outputs, self.install_root(python), "unchecked-hash")
        self.assertEqual(self.compiled(cmk.build(build).output), [])

        destdir = os.path.join(self.tmp.name, "make", "stage dir")
        cmk.install(build, destdir=destdir)
        self.check_pycache_install(python, src, build, [0, 1, 2], "unchecked-hash", destdir)

        # Installing under another prefix than the configured one warns.
        other = cmk.install(build, prefix=os.path.join(self.tmp.name, "make", "other prefix"))
        self.assertIn("configure with that prefix instead", other.output)

    def test_ninja_multi_config(self):
        python = self.python
        src, build = self.example("multi", python, "Ninja Multi-Config")
        release = cmk.build(build, config="Release")
        self.assertEqual(self.compiled(release.output), sorted(cmk.EXAMPLE_SOURCES))
        outputs = self.assert_outputs(python, build, [0, 1, 2])
        self.assertIn("ninja: no work to do", cmk.build(build, config="Debug").output)
        self.assertIn("ninja: no work to do", cmk.build(build, config="Release").output)
        self.assertIn("ninja: no work to do", cmk.build(build).output)
        self.assert_embedded(python, outputs, self.install_root(python), "checked-hash")
        destdir = os.path.join(self.tmp.name, "multi", "stage dir")
        cmk.install(build, destdir=destdir, config="Debug")
        self.assertEqual(len(cmk.pycs_in(destdir)), 3 * len(cmk.EXAMPLE_SOURCES))


class LayoutsTest(CMakeTestBase):
    def test_prefix_layout_with_hardlinks(self):
        """Installed for real (no DESTDIR) into a prefix with spaces; the pycs go
        to a pycache prefix tree named after the installed sources."""
        python = self.python
        base = os.path.join(self.tmp.name, "prefix layout")
        prefix = os.path.join(base, "installed prefix")
        cache = os.path.join(base, "pyc cache")
        src, build = self.example("prefix layout", python, CMAKE_INSTALL_PREFIX=prefix, INVENTORY_LAYOUT="PREFIX",
                                  INVENTORY_PYCACHE_PREFIX=cache, INVENTORY_HARDLINK_DUPES="ON")
        self.assertEqual(self.compiled(cmk.build(build).output), sorted(cmk.EXAMPLE_SOURCES))
        self.assertIn("ninja: no work to do", cmk.build(build).output)
        cmk.install(build)

        root = self.install_root(python, prefix)
        sources = [root + "/" + rel for rel in cmk.EXAMPLE_SOURCES]
        expected = lib.expected_paths(python, sources, [0, 1, 2], prefix=cache)
        by_rel = {rel: expected[root + "/" + rel] for rel in cmk.EXAMPLE_SOURCES}
        pycs = sorted(p for by_level in by_rel.values() for p in by_level.values())
        self.assertEqual(cmk.pycs_in(cache), pycs)
        self.assertEqual(cmk.pycs_in(prefix), [])
        self.assertTrue(all(os.path.isfile(s) for s in sources))
        self.assert_embedded(python, by_rel, root, "checked-hash")
        self.assert_no_leaks(pycs, build, src)
        lib.verify(python, [{"source": root + "/" + rel, "pyc": pyc, "optimize": level, "mode": "checked-hash",
                             "embedded": root + "/" + rel}
                            for rel, by_level in by_rel.items() for level, pyc in by_level.items()])
        for level in (0, 1, 2):
            self.assert_imported(python, root, {rel: by_rel[rel][level] for rel in by_rel}, level,
                                 flags=["-X", "pycache_prefix=" + cache])

        # HARDLINK_DUPES: identical levels are one file, in the build tree and installed.
        build_pycs = cmk.pycs_in(self.output_root(build))
        linked = 0
        for tree_pycs in (build_pycs, pycs):
            groups = {}
            for pyc in tree_pycs:
                stem = os.path.join(os.path.dirname(pyc), os.path.basename(pyc).split(".")[0])
                groups.setdefault(stem, []).append(pyc)
            for group in groups.values():
                for a in group:
                    for b in group:
                        if a < b:
                            with open(a, "rb") as fa, open(b, "rb") as fb:
                                same = fa.read() == fb.read()
                            self.assertEqual(os.stat(a).st_ino == os.stat(b).st_ino, same, (a, b))
                            linked += same
        self.assertGreater(linked, 0)
        # Reinstalling keeps them right.
        cmk.install(build)
        self.assertEqual(cmk.pycs_in(cache), pycs)

    def test_sourceless_layout(self):
        python = self.other_python
        prefix = os.path.join(self.tmp.name, "sourceless", "installed prefix")
        src, build = self.example("sourceless", python, CMAKE_INSTALL_PREFIX=prefix,
                                  INVENTORY_LAYOUT="SOURCELESS", INVENTORY_OPTIMIZE="1")
        cmk.build(build)
        cmk.install(build)
        root = self.install_root(python, prefix)
        pycs = {rel: {1: root + "/" + rel[:-3] + ".pyc"} for rel in cmk.EXAMPLE_SOURCES}
        got = sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files)
        self.assertEqual(got, sorted(p[1] for p in pycs.values()))
        self.assert_embedded(python, pycs, root, "checked-hash")
        self.assert_no_leaks([p[1] for p in pycs.values()], build, src)
        lib.verify(python, [{"source": os.path.join(src, "src", rel), "pyc": by_level[1], "optimize": 1,
                             "mode": "checked-hash", "embedded": root + "/" + rel}
                            for rel, by_level in pycs.items()])
        self.assert_imported(python, root, {rel: by_level[1] for rel, by_level in pycs.items()}, 1)


class ScratchProjectsTest(CMakeTestBase):
    def scratch(self, name, body, files=None, defs=None, check=True):
        base = os.path.join(self.tmp.name, "scratch", name)
        src = cmk.scratch_project(os.path.join(base, "src dir"), body, files)
        build = os.path.join(base, "build dir")
        settings = {"CMAKE_PREFIX_PATH": self.prefix, "Python3_EXECUTABLE": self.python, "PYCEMIT_VERBOSE": "ON"}
        settings.update(defs or {})
        return src, build, cmk.configure(src, build, "Ninja", settings, check=check)

    def test_configure_errors_name_the_argument(self):
        files = {"pkg/__init__.py": '"""pkg"""\n', "pkg/mod.py": "assert True\n", "other/x.py": "x = 1\n"}
        old = [p for p, impl, v in lib.interpreters.all_interpreters() if impl == "cpython" and v < (3, 8)]
        cases = [
            ("unknown", "SOURCES pkg/mod.py BOGUS_OPTION 1", "BOGUS_OPTION"),
            ("no sources", "OPTIMIZE 0", "SOURCES"),
            ("empty sources", "SOURCES", "SOURCES"),
            ("mode", "SOURCES pkg/mod.py INVALIDATION_MODE SOMETIMES", "INVALIDATION_MODE"),
            ("layout", "SOURCES pkg/mod.py LAYOUT FLAT", "LAYOUT"),
            ("level", "SOURCES pkg/mod.py OPTIMIZE 0 3", "OPTIMIZE"),
            ("level twice", "SOURCES pkg/mod.py OPTIMIZE 1 1", "OPTIMIZE"),
            ("prefix without dir", "SOURCES pkg/mod.py LAYOUT PREFIX", "PYCACHE_PREFIX"),
            ("relative prefix", "SOURCES pkg/mod.py LAYOUT PREFIX PYCACHE_PREFIX cache", "PYCACHE_PREFIX"),
            ("prefix dir without layout", "SOURCES pkg/mod.py PYCACHE_PREFIX /var/cache/pyc", "PYCACHE_PREFIX"),
            ("sourceless levels", "SOURCES pkg/mod.py LAYOUT SOURCELESS OPTIMIZE 0 1", "SOURCELESS"),
            ("outside root", "SOURCES pkg/mod.py other/x.py SOURCE_ROOT pkg", "SOURCE_ROOT"),
            ("missing source", "SOURCES pkg/nothere.py", "SOURCES"),
            ("directory source", "SOURCES pkg", "SOURCES"),
            ("component alone", "SOURCES pkg/mod.py COMPONENT python", "COMPONENT"),
            ("no python", "SOURCES pkg/mod.py PYTHON /nonexistent/python3", "PYTHON"),
        ]
        if old:
            cases.append(("old python", "SOURCES pkg/mod.py PYTHON %s" % old[0], "PYTHON"))
        for name, args, keyword in cases:
            with self.subTest(case=name):
                _, _, result = self.scratch(name, "add_python_bytecode(bytecode %s)\n" % args, files, check=False)
                self.assertNotEqual(result.returncode, 0, result.output)
                self.assertIn("CMake Error", result.output)
                self.assertIn("add_python_bytecode", result.output)
                self.assertIn(keyword, result.output)

    def test_generated_source_and_no_install_destination(self):
        """A source written during the build (GENERATED) is planned at configure
        time and compiled after it is written; without INSTALL_DESTINATION the
        embedded path is relative to SOURCE_ROOT, and the PYTHON argument may be
        a path."""
        body = """
        add_custom_command(OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/gen/pkg/version.py
          COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_CURRENT_SOURCE_DIR}/version.py.in
                  ${CMAKE_CURRENT_BINARY_DIR}/gen/pkg/version.py
          DEPENDS version.py.in)
        add_python_bytecode(generated ALL SOURCES ${CMAKE_CURRENT_BINARY_DIR}/gen/pkg/version.py
                            SOURCE_ROOT ${CMAKE_CURRENT_BINARY_DIR}/gen PYTHON "${PY}" OUTPUTS_VAR gen_pycs)
        add_python_bytecode(plain ALL SOURCES pkg/__init__.py PYTHON "${PY}" OUTPUTS_VAR plain_pycs)
        file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/outputs.txt "${gen_pycs}\\n${plain_pycs}\\n")
        """
        files = {"pkg/__init__.py": '"""pkg"""\n', "version.py.in": "VERSION = '1.2'\n"}
        src, build, _ = self.scratch("generated", body, files, {"PY": self.python})
        self.assertFalse(os.path.exists(os.path.join(build, "gen", "pkg", "version.py")))
        cmk.build(build)
        with open(os.path.join(build, "outputs.txt")) as f:
            gen_pyc, plain_pyc = f.read().split("\n")[:2]
        tag = cmk.cache_tag(self.python)
        self.assertEqual(gen_pyc, os.path.join(build, "pycemit", "generated", "pkg", "__pycache__",
                                               "version.%s.pyc" % tag))
        self.assertEqual(plain_pyc, os.path.join(build, "pycemit", "plain", "pkg", "__pycache__",
                                                 "__init__.%s.pyc" % tag))
        info = cmk.pyc_info(self.python, [gen_pyc, plain_pyc])
        self.assertEqual(info[gen_pyc]["filenames"], ["pkg/version.py"])
        self.assertEqual(info[plain_pyc]["filenames"], ["pkg/__init__.py"])
        self.assertIn("ninja: no work to do", cmk.build(build).output)
        # Regenerating the source recompiles it.
        self.edit_file(os.path.join(src, "version.py.in"), "VERSION = '1.3'\n")
        result = cmk.build(build)
        self.assertEqual(self.compiled(result.output, ["pkg/version.py", "pkg/__init__.py"]), ["pkg/version.py"])

    def edit_file(self, path, text):
        with open(path, "w") as f:
            f.write(text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
