#!/usr/bin/env python3
"""The compileall/py_compile drop-in against CPython's own tools, on the lines
distributions really run.

For every CPython >= 3.9 (tests/lib/interpreters.py; at least three), a staged
tree outside the repository (a staging root, a package several levels deep, a
symlink inside the root and one leaving it, a file that does not compile) is
copied twice; each distribution's line runs once as `python -m compileall ...`
(or `-m py_compile -`) and once through `pycemit-python` with the same
arguments. Checked: the same exit status, the same pyc file names, the same
embedded paths, code objects equal when the interpreter loads both, and for the
drop-in: bytes identical across -j 1 and -j 2, a rerun with nothing changed
starting no interpreter and leaving every pyc untouched, and the interpreter
loading its pycs (`-v`: `# code object from`, `--check-hash-based-pycs always`).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import interpreters  # noqa: E402
import pycemit_testlib  # noqa: E402

ENTRY = os.path.join(os.path.dirname(os.path.abspath(pycemit_testlib.PYCEMIT)), "pycemit-python")
SITE = "usr/lib/python3/site-packages"  # below the staging root

# Run by the target: for each pair of pycs, whether their code objects are equal and their co_filename.
COMPARE = r"""
import json, marshal, sys
out = []
for a, b in json.loads(sys.stdin.read()):
    ca = marshal.loads(open(a, 'rb').read()[16:])
    cb = marshal.loads(open(b, 'rb').read()[16:])
    out.append([ca == cb, ca.co_filename, cb.co_filename])
print(json.dumps(out))
"""

# The distributions' lines; ROOT is the staging root, SITE the installed directory in it.
LINES = {
    # Fedora's %py_byte_compile, with the -e brp-python-bytecompile adds.
    "fedora": (["-s", "-B"], ["-s", "{ROOT}", "-p", "/", "--hardlink-dupes", "--invalidation-mode=timestamp",
                              "-o", "0", "-o", "1", "-j", "2", "-e", "{ROOT}", "{ROOT}/" + SITE], {}),
    # An Arch PKGBUILD's package(); makepkg exports SOURCE_DATE_EPOCH (so: checked-hash pycs).
    "arch": ([], ["-o", "0", "-o", "1", "-o", "2", "--hardlink-dupes", "-s", "{ROOT}", "{ROOT}/" + SITE],
             {"SOURCE_DATE_EPOCH": "1700000000"}),
    # Gentoo's python_optimize.
    "gentoo": ([], ["-j", "2", "-o", "0", "-o", "1", "-o", "2", "--hardlink-dupes", "-q", "-f", "-d", "/" + SITE,
                    "{ROOT}/" + SITE], {}),
}

MODULES = {
    "pkg/__init__.py": '"""The package."""\n',
    "pkg/mod.py": '"""Docstring, gone at -OO."""\nassert True, "gone at -O"\nVALUE = 1\n',
    "pkg/sub/__init__.py": "",
    "pkg/sub/deep/__init__.py": "",
    "pkg/sub/deep/leaf.py": "def leaf():\n    '''doc'''\n    return [x * 2 for x in range(3)]\n",
    "pkg/broken.py": "def broken(:\n    pass\n",
}


# Lines run in a small tree with relative paths: the -s rule of each version (3.13's strict
# prefix and its warning), -p, -b with two levels, a file named twice, -e, a missing path, a
# file not named *.py, -d with a file, -x, -r, -i, -l, a name with a quote (repr).
FLAG_CASES = [
    ["-s", "nomatch", "pkg"], ["-s", "pkg", "-p", "/x", "./pkg/"], ["-b", "-o", "0", "-o", "1", "pkg"],
    ["pkg/", "./pkg/sub"], ["-e", "pkg", "pkg"], ["nosuch", "pkg/a.py", "pkg/notpy.txt"], ["-d", "dd", "pkg/a.py"],
    ["-q", "-x", "ba[^/]*$", "-r", "1", "pkg"], ["-qq", "-i", "list.txt", "-l"],
]

FLAG_TREE = {"a.py": "x = 1\n", "bar.py": "x = 2\n", "it's.py": "x = 3\n", "bad.py": "x = (\n",
             "notpy.txt": "x\n", "sub/b.py": '"""d"""\nassert 1\n', "sub/deeper/c.py": "c = 1\n"}


def make_flag_tree(d, outside):
    os.makedirs(os.path.join(d, "pkg", "sub", "deeper"))
    for rel, text in FLAG_TREE.items():
        with open(os.path.join(d, "pkg", rel), "w") as f:
            f.write(text)
    os.symlink(outside, os.path.join(d, "pkg", "outside.py"))
    with open(os.path.join(d, "list.txt"), "w") as f:
        f.write("pkg/sub\n  pkg/a.py  \n")


def pycs_in(tree):
    found = {}
    for dirpath, _, files in os.walk(tree):
        for f in files:
            if f.endswith(".pyc"):
                path = os.path.join(dirpath, f)
                found[os.path.relpath(path, tree)] = path
    return found


class CompileallDropIn(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pythons = [p for p in interpreters.require_cpythons() if pycemit_testlib.python_version(p) >= (3, 9)]
        print("CPythons:", ", ".join(cls.pythons), flush=True)
        cls.tmp = tempfile.mkdtemp(prefix="pycemit-compileall-")
        cls.template = os.path.join(cls.tmp, "template")
        site = os.path.join(cls.template, "root", SITE)
        for rel, text in MODULES.items():
            os.makedirs(os.path.dirname(os.path.join(site, rel)), exist_ok=True)
            with open(os.path.join(site, rel), "w") as f:
                f.write(text)
        os.makedirs(os.path.join(cls.template, "outside"))
        with open(os.path.join(cls.template, "outside", "ext.py"), "w") as f:
            f.write("EXT = 1\n")
        os.symlink("mod.py", os.path.join(site, "pkg", "alias.py"))  # stays inside the root
        os.symlink("../../../../../../outside/ext.py", os.path.join(site, "pkg", "ext.py"))  # leaves it
        # Fixed source mtimes: timestamp pycs of two copies are then comparable byte for byte.
        for dirpath, _, files in os.walk(cls.template):
            for f in files:
                os.utime(os.path.join(dirpath, f), (1600000000, 1600000000), follow_symlinks=False)
        cls.env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "SOURCE_DATE_EPOCH"}
        cls.env.setdefault("PYCEMIT_CACHE_DIR", os.path.join(tempfile.gettempdir(), "pycemit-test-cache"))
        cls.results = {}
        cls.label = {p: "py%d" % i for i, p in enumerate(cls.pythons)}
        for python in cls.pythons:
            for name, (flags, args, extra_env) in LINES.items():
                cls.results[(python, name)] = {
                    "cpython": cls.run_line(python, name, "cpython", [python] + flags, args, extra_env),
                    "dropin": cls.run_line(python, name, "dropin", [ENTRY] + flags, args, extra_env),
                }

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def copy_tree(cls, label):
        tree = os.path.join(cls.tmp, label)
        shutil.copytree(cls.template, tree, symlinks=True)
        return tree

    @classmethod
    def run_line(cls, python, name, who, command, args, extra_env, label=None):
        tree = cls.copy_tree(label or "%s-%s-%s" % (cls.label[python], name, who))
        root = os.path.join(tree, "root")
        argv = command + ["-m", "compileall"] + [a.format(ROOT=root) for a in args]
        env = dict(cls.env, PYCEMIT_PYTHON=python, **extra_env)
        proc = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True, timeout=600)
        return {"tree": tree, "root": root, "argv": argv, "env": env, "proc": proc}

    def compare(self, python, pairs):
        out = subprocess.run([python, "-S", "-c", COMPARE], input=json.dumps(pairs), capture_output=True,
                             text=True, env=self.env, check=True)
        return json.loads(out.stdout)

    def test_each_line_gives_the_same_names_embedded_paths_and_code_as_cpython(self):
        for (python, name), r in self.results.items():
            with self.subTest(python=python, line=name):
                ours, theirs = r["dropin"], r["cpython"]
                self.assertEqual(ours["proc"].returncode, theirs["proc"].returncode,
                                 ours["proc"].stdout + ours["proc"].stderr)
                self.assertEqual(ours["proc"].returncode, 1)  # the broken file
                self.assertEqual(ours["proc"].stderr, "")
                pycs_ours, pycs_theirs = pycs_in(ours["tree"]), pycs_in(theirs["tree"])
                self.assertEqual(sorted(pycs_ours), sorted(pycs_theirs))
                self.assertTrue(any("leaf" in p for p in pycs_ours))
                self.assertFalse(any("broken" in p for p in pycs_ours))
                pairs = [[pycs_ours[rel], pycs_theirs[rel]] for rel in sorted(pycs_ours)]
                for (equal, filename_ours, filename_theirs), (a, _) in zip(self.compare(python, pairs), pairs):
                    self.assertTrue(equal, a)
                    self.assertEqual(filename_ours.replace(ours["root"], "<root>"),
                                     filename_theirs.replace(theirs["root"], "<root>"), a)
                    self.assertNotIn(ours["tree"], filename_ours)  # no staging root or build path embedded

    def test_output_lines_are_compileall_s(self):
        for (python, name), r in self.results.items():
            with self.subTest(python=python, line=name):
                ours = r["dropin"]["proc"].stdout.replace(r["dropin"]["root"], "<root>").splitlines()
                theirs = r["cpython"]["proc"].stdout.replace(r["cpython"]["root"], "<root>").splitlines()
                if "-j" in r["cpython"]["argv"]:
                    ours, theirs = sorted(ours), sorted(theirs)  # workers print in completion order
                self.assertEqual(ours, theirs)
                self.assertTrue(any("SyntaxError" in line for line in ours), ours)

    def test_drop_in_bytes_do_not_depend_on_the_job_count(self):
        for python in self.pythons:
            with self.subTest(python=python):
                flags, args, extra_env = LINES["fedora"]
                one = self.run_line(python, "fedora", "j1", [ENTRY] + flags,
                                    [a if a != "2" else "1" for a in args], extra_env,
                                    label="j1-" + self.label[python])
                self.assertIn("1", one["argv"][one["argv"].index("-j") + 1])
                two = self.results[(python, "fedora")]["dropin"]
                a, b = pycs_in(one["tree"]), pycs_in(two["tree"])
                self.assertEqual(sorted(a), sorted(b))
                for rel in a:
                    with open(a[rel], "rb") as fa, open(b[rel], "rb") as fb:
                        self.assertEqual(fa.read(), fb.read(), rel)

    def test_a_rerun_starts_no_interpreter_and_the_pycs_are_used(self):
        for python in self.pythons:
            for name in ("fedora", "arch"):
                with self.subTest(python=python, line=name):
                    r = self.results[(python, name)]["dropin"]
                    os.unlink(os.path.join(r["root"], SITE, "pkg", "broken.py"))
                    before = {rel: os.stat(p) for rel, p in pycs_in(r["tree"]).items()}
                    stats = os.path.join(r["tree"], "stats.json")
                    argv = r["argv"][:r["argv"].index("compileall") + 1] + ["--stats", stats] + \
                        r["argv"][r["argv"].index("compileall") + 1:]
                    proc = subprocess.run(argv, cwd=r["tree"], env=r["env"], capture_output=True, text=True)
                    self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                    with open(stats) as f:
                        self.assertEqual(json.load(f)["interpreters_started"], 0)
                    self.assertNotIn("Compiling", proc.stdout)
                    after = {rel: os.stat(p) for rel, p in pycs_in(r["tree"]).items()}
                    self.assertEqual({k: (v.st_ino, v.st_mtime_ns) for k, v in before.items()},
                                     {k: (v.st_ino, v.st_mtime_ns) for k, v in after.items()})
                    site = os.path.join(r["root"], SITE)
                    _, loaded, stale = pycemit_testlib.imported_from(python, site, ["pkg.mod", "pkg.sub.deep.leaf",
                                                                                    "pkg.alias"])
                    self.assertEqual(stale, [])
                    for module in ("mod", "sub/deep/leaf", "alias"):
                        d, base = os.path.split(os.path.join(site, "pkg", module))
                        self.assertTrue(any(p.startswith(os.path.join(d, "__pycache__", base + ".cpython-")) and
                                            ".opt-" not in p for p in loaded), (module, loaded))

    def test_flags_give_cpython_s_lines_names_and_embedded_paths(self):
        outside = os.path.join(self.template, "outside", "ext.py")
        for python in self.pythons:
            for index, case in enumerate(FLAG_CASES):
                with self.subTest(python=python, args=case):
                    seen = {}
                    for who, command in (("cpython", [python]), ("dropin", [ENTRY])):
                        d = os.path.join(self.tmp, "flags-%s-%s-%d" % (who, self.label[python], index))
                        make_flag_tree(d, outside)
                        proc = subprocess.run(command + ["-m", "compileall"] + case, cwd=d, capture_output=True,
                                              text=True, env=dict(self.env, PYCEMIT_PYTHON=python))
                        pycs = pycs_in(d)
                        names = [f for _, f, _ in self.compare(python, [[pycs[k], pycs[k]] for k in sorted(pycs)])]
                        seen[who] = (proc.returncode, proc.stdout, proc.stderr, sorted(pycs), names)
                    self.assertEqual(seen["dropin"], seen["cpython"])
                    self.assertTrue(seen["dropin"][3] or "-qq" in case)

    def test_debian_py_compile_on_stdin(self):
        for python in self.pythons:
            with self.subTest(python=python):
                trees = {}
                for who, command in (("cpython", [python]), ("dropin", [ENTRY])):
                    tree = self.copy_tree("debian-%s-%s" % (who, self.label[python]))
                    site = os.path.join(tree, "root", SITE)
                    names = [os.path.join(site, rel) for rel in sorted(MODULES) if "broken" not in rel]
                    names.append(os.path.join(site, "pkg", "broken.py"))  # last: 3.10+ stops at the first failure
                    proc = subprocess.run(command + ["-m", "py_compile", "-"], input="\n".join(names) + "\n",
                                          cwd=tree, env=dict(self.env, PYCEMIT_PYTHON=python),
                                          capture_output=True, text=True)
                    trees[who] = (tree, proc)
                (ours, p_ours), (theirs, p_theirs) = trees["dropin"], trees["cpython"]
                self.assertEqual(p_ours.returncode, p_theirs.returncode)
                self.assertEqual(p_ours.returncode, 1)
                self.assertIn("SyntaxError", p_ours.stderr)
                self.assertEqual(p_ours.stderr.replace(ours, "<tree>"), p_theirs.stderr.replace(theirs, "<tree>"))
                a, b = pycs_in(ours), pycs_in(theirs)
                self.assertEqual(sorted(a), sorted(b))
                self.assertEqual(len(a), len(MODULES) - 1)
                for (equal, fa, fb), rel in zip(self.compare(python, [[a[k], b[k]] for k in sorted(a)]), sorted(a)):
                    self.assertTrue(equal, rel)
                    self.assertEqual(fa.replace(ours, "<tree>"), fb.replace(theirs, "<tree>"))


if __name__ == "__main__":
    unittest.main()
