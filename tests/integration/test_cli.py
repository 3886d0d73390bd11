"""pycemit's command line on real trees and real interpreters: up-to-date
checks, roots and embedded paths, path selection, info, output on a terminal."""
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pycemit_testlib as lib  # noqa: E402


def mtimes(tree):
    return {p: os.stat(p).st_mtime_ns for p in lib.outputs_in(tree)}


def glob_pycache(tree):
    return [d for d, _, _ in os.walk(tree) if os.path.basename(d) == "__pycache__"]


def strace_env():
    """The environment for pycemit under strace: lib.run's cache directory, and
    no LeakSanitizer in a sanitizer build (it refuses to run under ptrace)."""
    env = dict(os.environ)
    env.setdefault("PYCEMIT_CACHE_DIR", os.path.join(tempfile.gettempdir(), "pycemit-test-cache"))
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=0"]))
    return env


def execs_of(python_prefix, strace_log):
    """Number of execve calls of an interpreter recorded by strace -f."""
    with open(strace_log) as f:
        return sum(1 for line in f if "execve(" in line and python_prefix in line and "= 0" in line)


class CliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit cli ")
        self.addCleanup(self.tmp.cleanup)
        self.tree = os.path.join(self.tmp.name, "project src")
        self.python = lib.target_pythons()[-1]
        for rel, text in {"app/__init__.py": '"""App."""\n', "app/core.py": "def f(x):\n    assert x\n    return {1, 'a'}\n",
                          "app/util/__init__.py": "", "app/util/text.py": "S = 'caf\u00e9'\n",
                          "app/tests/test_core.py": "import app\n", "tool.py": "print('hi')\n"}.items():
            path = os.path.join(self.tree, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)

    def compile(self, *args, python=None, check=True, env=None):
        return lib.run(["compile", "--python", python or self.python, "--source-root", self.tree] + list(args)
                       + [self.tree], check=check, env=env)

    def traced_compile(self, *args):
        """Runs compile under strace -f; returns (result, interpreter processes started)."""
        log = os.path.join(self.tmp.name, "strace.log")
        cmd = ["strace", "-f", "-qq", "-e", "trace=execve", "-o", log, lib.PYCEMIT, "compile", "--python",
               self.python, "--source-root", self.tree] + list(args) + [self.tree]
        result = subprocess.run(cmd, capture_output=True, text=True, env=strace_env())
        return result, execs_of(self.python, log)

    def test_up_to_date_runs_start_no_interpreter_and_keep_mtimes(self):
        first, started = self.traced_compile("-O", "0", "-O", "1")
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertGreaterEqual(started, 1)
        before = mtimes(self.tree)
        self.assertEqual(len(before), 12)
        time.sleep(0.01)
        second, started = self.traced_compile("-O", "0", "-O", "1")
        self.assertEqual(second.returncode, 0)
        self.assertIn("0 pycs written, 12 up to date", second.stderr)
        self.assertEqual(started, 0, "a no-op run must not start an interpreter")
        self.assertEqual(mtimes(self.tree), before)

    def test_a_no_op_rerun_reads_no_file_but_sees_every_change(self):
        """The stat cache: unchanged identities mean no source or pyc is even
        opened; a same-size edit with its mtime restored, and a pyc swapped for
        CPython's own (not canonical), are both seen."""
        self.compile()
        time.sleep(0.1)  # older than the racy window
        self.compile()   # records everything
        log = os.path.join(self.tmp.name, "opens.log")
        subprocess.run(["strace", "-f", "-qq", "-e", "trace=openat", "-o", log, lib.PYCEMIT, "compile", "-q",
                        "--python", self.python, "--source-root", self.tree, self.tree], check=True, env=strace_env())
        with open(log) as f:
            opened = [line for line in f if '"' in line and line.split('"')[1].endswith((".py", ".pyc"))]
        self.assertEqual(opened, [], "a no-op run opens no source and no pyc")

        core = os.path.join(self.tree, "app", "core.py")
        st = os.stat(core)
        with open(core, "r+") as f:
            text = f.read()
            f.seek(0)
            f.write(text.replace("return", "yield ")[:len(text)])
        os.utime(core, ns=(st.st_atime_ns, st.st_mtime_ns))
        self.assertEqual(os.stat(core).st_size, st.st_size)
        self.assertIn("1 pycs written", self.compile().stderr)

        text_pyc = lib.expected_paths(self.python, [os.path.join(self.tree, "tool.py")], [0])
        pyc = list(text_pyc.values())[0][0]
        subprocess.run([self.python, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], "
                        "dfile='tool.py', invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)",
                        os.path.join(self.tree, "tool.py"), pyc], check=True)
        self.assertIn("1 pycs written", self.compile().stderr, "CPython's own pyc is replaced by the canonical one")
        self.assertIn("0 pycs written", self.compile("--no-stat-cache").stderr)

    def test_editing_one_source_rewrites_only_its_pycs_with_one_interpreter(self):
        self.compile("-O", "0", "-O", "2")
        before = mtimes(self.tree)
        with open(os.path.join(self.tree, "app", "core.py"), "a") as f:
            f.write("y = 2\n")
        result, started = self.traced_compile("-O", "0", "-O", "2", "--jobs", "4")
        self.assertIn("2 pycs written, 10 up to date", result.stderr)
        self.assertEqual(started, 1, "one stale file needs one interpreter")
        changed = {p for p, m in mtimes(self.tree).items() if before[p] != m}
        self.assertEqual({os.path.basename(p) for p in changed},
                         {"core.%s.pyc" % lib.info(self.python)["cache_tag"],
                          "core.%s.opt-2.pyc" % lib.info(self.python)["cache_tag"]})

    def test_changed_embedded_path_or_force_rewrites(self):
        self.compile()
        self.assertIn("6 pycs written", self.compile("--embed-prefix", "site/pkgs").stderr)
        self.assertIn("0 pycs written, 6 up to date", self.compile("--embed-prefix", "site/pkgs").stderr)
        self.assertIn("6 pycs written", self.compile("--embed-prefix", "site/pkgs", "--force").stderr)
        sources = lib.sources_in(self.tree)
        expected = lib.expected_paths(self.python, sources, [0])
        lib.verify(self.python, [{"source": s, "pyc": expected[s][0], "optimize": 0, "mode": "checked-hash",
                                  "embedded": "site/pkgs/" + os.path.relpath(s, self.tree)} for s in sources])

    def test_timestamp_mode_follows_the_source_stamp(self):
        self.compile("--invalidation-mode", "timestamp")
        core = os.path.join(self.tree, "app", "core.py")
        os.utime(core, ns=(1_600_000_000_000_000_000, 1_600_000_000_999_999_999))
        result = self.compile("--invalidation-mode", "timestamp")
        self.assertIn("1 pycs written, 5 up to date", result.stderr)
        expected = lib.expected_paths(self.python, [core], [0])
        lib.verify(self.python, [{"source": core, "pyc": expected[core][0], "optimize": 0, "mode": "timestamp",
                                  "embedded": "app/core.py"}])

    def test_install_root_and_output_root(self):
        out = os.path.join(self.tmp.name, "build dir", "pyc")
        self.compile("--install-root", "/opt/my app/lib", "--output-root", out, "-O", "1")
        sources = lib.sources_in(self.tree)
        self.assertEqual(lib.outputs_in(os.path.join(self.tree)), [], "nothing is written in place")
        runtime = {s: "/opt/my app/lib/" + os.path.relpath(s, self.tree) for s in sources}
        expected = lib.expected_paths(self.python, list(runtime.values()), [1])
        expectations = []
        for s in sources:
            pyc = os.path.join(out, os.path.relpath(expected[runtime[s]][1], "/opt/my app/lib"))
            expectations.append({"source": s, "pyc": pyc, "optimize": 1, "mode": "checked-hash", "embedded": runtime[s]})
        lib.verify(self.python, expectations)

    def test_staging_root_with_a_run_time_prefix(self):
        stage = os.path.join(self.tmp.name, "stage root")
        site = os.path.join(stage, "usr", "lib", "app")
        shutil.copytree(self.tree, site)
        result = lib.run(["compile", "-q", "--python", self.python, "--root", stage, "--layout", "prefix",
                          "--pycache-prefix", "/var/cache/pyc", site], check=True)
        self.assertEqual(result.stderr, "")
        sources = lib.sources_in(site)
        runtime = {s: "/" + os.path.relpath(s, stage) for s in sources}
        expected = lib.expected_paths(self.python, list(runtime.values()), [0], prefix="/var/cache/pyc")
        expectations = [{"source": s, "pyc": stage + expected[runtime[s]][0], "optimize": 0, "mode": "checked-hash",
                 "embedded": runtime[s]} for s in sources]
        lib.verify(self.python, expectations)
        for expectation in expectations:
            with open(expectation["pyc"], "rb") as f:
                self.assertNotIn(stage.encode(), f.read(), "the staging root is never embedded")

    def test_root_from_the_environment_and_remove_by_manifest(self):
        """--root-env DESTDIR: what an install script gets; PATHs are run-time paths.
        `remove` then deletes exactly what the manifest lists."""
        stage = os.path.join(self.tmp.name, "dest dir")
        shutil.copytree(self.tree, os.path.join(stage, "opt", "app"))
        manifest = os.path.join(self.tmp.name, "manifest.json")
        args = ["compile", "-q", "--python", self.python, "--root-env", "DESTDIR", "--manifest", manifest,
                "-O", "0", "-O", "1", "/opt/app"]
        lib.run(args, env={"DESTDIR": stage}, check=True)
        sources = lib.sources_in(os.path.join(stage, "opt", "app"))
        runtime = {s: "/" + os.path.relpath(s, stage) for s in sources}
        expected = lib.expected_paths(self.python, list(runtime.values()), [0, 1])
        expectations = [{"source": s, "pyc": stage + expected[runtime[s]][level], "optimize": level,
                 "mode": "checked-hash", "embedded": runtime[s]} for s in sources for level in (0, 1)]
        lib.verify(self.python, expectations)
        with open(manifest) as f:
            listed = sorted(o["path"] for o in json.load(f)["outputs"])
        self.assertEqual(listed, sorted(expectation["pyc"] for expectation in expectations))

        # Relative paths and --root together are refused.
        bad = lib.run(["compile", "--python", self.python, "--root-env", "DESTDIR", "opt/app"], env={"DESTDIR": stage})
        self.assertEqual(bad.returncode, 2)
        self.assertIn("absolute run-time paths", bad.stderr)
        bad = lib.run(["compile", "--python", self.python, "--root-env", "DESTDIR", "--root", stage, "/opt/app"])
        self.assertEqual(bad.returncode, 2)

        result = lib.run(["remove", manifest], check=True)
        self.assertIn("12 pycs removed", result.stderr)
        self.assertEqual(lib.outputs_in(stage), [])
        self.assertEqual(glob_pycache(stage), [], "empty __pycache__ directories are removed")
        self.assertEqual(len(lib.sources_in(stage)), 6, "sources are untouched")
        self.assertEqual(lib.run(["remove", manifest]).returncode, 0, "removing again is not an error")
        never = lib.run(["remove", os.path.join(self.tmp.name, "never installed.json")])
        self.assertEqual(never.returncode, 0)
        self.assertIn("no manifest, nothing to remove", never.stderr)
        with open(manifest, "w") as f:
            f.write("not json")
        self.assertEqual(lib.run(["remove", manifest]).returncode, 1)

    def test_flags_for_build_systems_that_name_outputs_in_advance(self):
        tag = lib.info(self.python)["cache_tag"]
        refused = self.compile("--expect-cache-tag", "cpython-27", check=False)
        self.assertEqual(refused.returncode, 3)
        self.assertIn("with cache tag %s, but the outputs were named for cpython-27" % tag, refused.stderr)
        self.assertEqual(lib.outputs_in(self.tree), [])
        self.compile("--expect-cache-tag", tag)

        py2 = os.path.join(self.tree, "app", "legacy.py")
        with open(py2, "w") as f:
            f.write("print 'python 2'\n")
        placeholder = lib.expected_paths(self.python, [py2], [0])[py2][0]
        self.assertEqual(self.compile("--on-error", "fail", "--placeholder-for-skipped", check=False).returncode, 1)
        self.assertFalse(os.path.exists(placeholder), "no placeholder when the run fails")
        result = self.compile("--on-error", "skip", "--placeholder-for-skipped")
        self.assertIn("skipped: " + py2, result.stderr)
        self.assertEqual(os.path.getsize(placeholder), 0)
        # The interpreter rejects the empty pyc and falls back to the source.
        out = subprocess.run([self.python, "-S", "-B", "-v", "-c",
                              "import sys; sys.path.insert(0, %r); import app.legacy" % self.tree],
                             capture_output=True, text=True)
        self.assertIn("bad magic number", out.stderr)
        self.assertIn("SyntaxError", out.stderr)

    def test_plan_lines_name_what_compile_writes(self):
        """`plan --format lines` (what CMake reads): the cache tag, then one line per source,
        its relative path and its outputs in level order, the same as the JSON plan and as
        what `compile` writes; a path holding a tab is refused."""
        out_root = os.path.join(self.tmp.name, "out")
        args = ["--python", self.python, "--source-root", self.tree, "--output-root", out_root,
                "-O", "2", "-O", "0", self.tree]
        lines = lib.run(["plan", "--format", "lines"] + args, check=True).stdout.splitlines()
        doc = json.loads(lib.run(["plan"] + args, check=True).stdout)
        self.assertEqual(lines[0], "cache_tag\t" + doc["cache_tag"])
        self.assertEqual(lines[1:], ["\t".join([s["relative"]] + [o["path"] for o in s["outputs"]])
                                     for s in doc["sources"]])
        self.assertEqual(len(lines) - 1, len(lib.sources_in(self.tree)))
        lib.run(["compile"] + args, check=True)
        self.assertEqual(sorted(p for line in lines[1:] for p in line.split("\t")[1:]), lib.outputs_in(out_root))
        self.assertTrue(all(line.split("\t")[1].endswith(".opt-2.pyc") for line in lines[1:]))
        tabbed = os.path.join(self.tree, "app", "tab\there.py")
        with open(tabbed, "w") as f:
            f.write("x = 1\n")
        refused = lib.run(["plan", "--format", "lines"] + args)
        self.assertEqual(refused.returncode, 2)
        self.assertIn("tab", refused.stderr)

    def test_excludes_and_path_lists(self):
        result = self.compile("-v", "--exclude", "tests", "--exclude", "app/util/*")
        written = sorted(os.path.relpath(line.split(" ", 1)[1], self.tree) for line in result.stdout.splitlines())
        self.assertEqual([os.path.dirname(p) for p in written], ["__pycache__", "app/__pycache__", "app/__pycache__"])
        listing = os.path.join(self.tmp.name, "list of sources")
        with open(listing, "w") as f:
            f.write(os.path.join(self.tree, "tool.py") + "\n" + os.path.join(self.tree, "app", "core.py") + "\n")
        result = lib.run(["compile", "-v", "--python", self.python, "--source-root", self.tree, "@" + listing],
                         check=True)
        self.assertIn("2 sources", result.stderr)

    def test_info_reports_what_the_interpreter_says(self):
        probe = ("import sys, importlib.util, marshal, json; print(json.dumps({'version': '%d.%d.%d' % sys.version_info[:3],"
                 " 'cache_tag': sys.implementation.cache_tag, 'magic': importlib.util.MAGIC_NUMBER.hex(),"
                 " 'marshal': marshal.version}))")
        for python in lib.target_pythons():
            with self.subTest(python=python):
                info = lib.info(python)
                truth = json.loads(subprocess.run([python, "-S", "-c", probe], capture_output=True, text=True,
                                                  check=True).stdout)
                self.assertEqual(info["implementation"], "cpython")
                self.assertEqual(info["version"], truth["version"])
                self.assertEqual(info["cache_tag"], truth["cache_tag"])
                self.assertEqual(info["magic_bytes"], truth["magic"])
                self.assertEqual(info["magic_number"], int.from_bytes(bytes.fromhex(truth["magic"])[:2], "little"))
                self.assertEqual(info["marshal_version"], truth["marshal"])
                minor = int(truth["version"].split(".")[1])
                self.assertEqual(info["source_hash"], "siphash-2-4" if minor <= 10 else "siphash-1-3")

    def test_help_lists_exit_statuses(self):
        out = lib.run(["compile", "--help"]).stdout
        for status in ("0  success", "1  some files", "2  bad options", "3  the interpreter", "4  internal error"):
            self.assertIn(status, out)

    def test_quiet_verbose_and_progress_only_on_a_terminal(self):
        quiet = self.compile("-q", "--force")
        self.assertEqual((quiet.stdout, quiet.stderr), ("", ""))
        verbose = self.compile("-v", "--force")
        self.assertEqual(len(verbose.stdout.splitlines()), 6)
        self.assertNotIn("\r", verbose.stderr, "no progress line when stderr is not a terminal")

        # On a terminal: a progress line with done/total and a rate, erased at the end.
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(lib.PYCEMIT, [lib.PYCEMIT, "compile", "--force", "--python", self.python,
                                   "--source-root", self.tree, self.tree])
        output = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        os.waitpid(pid, 0)
        text = output.decode(errors="replace")
        self.assertRegex(text, r"\r\x1b\[K\[6/6\] \d+ files/s")
        self.assertIn("6 pycs written", text)


if __name__ == "__main__":
    unittest.main()
