"""Helpers for the packaging integration tests (test_packaging*.py).

A "staged install" here is what an RPM %install or a Debian
override_dh_auto_install leaves behind: the package's files under a staging
root (DESTDIR, buildroot) at their run-time path. Since a test may not write to
/usr or /var/cache, the run-time locations are chosen inside a temporary
directory (`Layout.runtime`): the staged copy of the site directory is then
`stage + runtime/usr/lib/python3.X/site-packages`, and "installing" moves
`stage + runtime` to `runtime` (a chroot-free equivalent of rpm -i).
"""
import base64
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pycemit_testlib as lib  # noqa: E402

DIST_NAME = "tinypkg"
DIST_VERSION = "1.0"

# A small package whose modules exercise what differs between levels:
#   __init__.py    docstring and assert: levels 0, 1, 2 all differ;
#   plain.py       no docstring, no assert: levels 0, 1 and 2 are identical;
#   checks.py      an assert but no docstring: level 0 differs, 1 == 2;
#   docs.py        a docstring but no assert: 0 == 1, level 2 differs;
#   sub/...        a subpackage (empty __init__.py) and a relative import.
# plain.py and docs.py also hold set and frozenset constants, whose order in
# marshal data is what CPython's own output gets wrong.
PACKAGE = {
    "__init__.py": '"""tinypkg: a package staged the way a distribution would."""\n'
                   "from . import plain\n\n"
                   "def answer():\n    assert plain.VALUE == 42\n    return plain.VALUE\n",
    "plain.py": "VALUE = 42\nNAMES = {'a', 'b', 'c'}\n\ndef double(x):\n    return 2 * x\n",
    "checks.py": "def positive(x):\n    assert x > 0, 'must be positive'\n    return x\n",
    "docs.py": '"""Module docstring."""\n\ndef f():\n    """Function docstring."""\n    return frozenset({1, 2, 3})\n',
    "sub/__init__.py": "",
    "sub/deep_module.py": "from .. import plain\n\ndef triple(x):\n    return 3 * x + plain.VALUE - 42\n",
}
MODULES = ["tinypkg", "tinypkg.plain", "tinypkg.checks", "tinypkg.docs", "tinypkg.sub", "tinypkg.sub.deep_module"]

# A Python 2 file vendored in a package: no Python 3 compiles it.
PY2_SOURCE = 'print "hello from python 2"\n'


def spread(pythons, count=3):
    """Up to `count` interpreters of distinct minor versions from `pythons`
    (sorted oldest first): always the oldest and the newest, then ones from the
    middle."""
    seen = set()
    distinct = []
    for python in pythons:
        version = lib.python_version(python)[:2]
        if version not in seen:
            seen.add(version)
            distinct.append(python)
    pythons = distinct
    if len(pythons) <= count:
        return list(pythons)
    picked = [pythons[0], pythons[-1]]
    step = (len(pythons) - 1) / (count - 1)
    for i in range(1, count - 1):
        picked.insert(i, pythons[int(round(i * step))])
    return picked


def python_tag(python):
    """'3.12' for a CPython 3.12 interpreter."""
    return "%d.%d" % lib.python_version(python)[:2]


def write_files(directory, files):
    """Writes {relative path: text} below `directory`; returns the paths written."""
    written = []
    for rel, text in files.items():
        path = os.path.join(directory, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        written.append(path)
    return written


class Layout:
    """Where a staged package lives, at build time and at run time.

    runtime      the directory that stands for "/" at run time (inside the test's
                 temporary directory, so it can be written);
    stage        the staging root (DESTDIR);
    site         run-time site directory: runtime/usr/lib/python3.X/site-packages;
    prefix       run-time pycache prefix: runtime/var/cache/pyc;
    staged(p)    where run-time path p is while staged: stage + p.
    """

    def __init__(self, base, python, runtime=None):
        self.base = base
        self.python = python
        self.runtime = runtime or os.path.join(base, "run time root")
        self.stage = os.path.join(base, "stage root")
        self.site = os.path.join(self.runtime, "usr", "lib", "python%s" % python_tag(python), "site-packages")
        self.prefix = os.path.join(self.runtime, "var", "cache", "pyc")
        self.package = os.path.join(self.site, DIST_NAME)
        self.dist_info = os.path.join(self.site, "%s-%s.dist-info" % (DIST_NAME, DIST_VERSION))

    def staged(self, runtime_path):
        return self.stage + runtime_path

    def stage_package(self, files=None, record=True):
        """The install step: the package's sources (and a .dist-info with a
        RECORD listing them, as a wheel installer writes it) under the staging root."""
        write_files(self.staged(self.package), PACKAGE if files is None else files)
        if record:
            write_dist_info(self.staged(self.site), self.staged(self.dist_info))
        return self.staged(self.package)

    def install(self):
        """Moves the staged run-time tree to its real place (rpm -i / dpkg -i)."""
        src = self.staged(self.runtime)
        if os.path.exists(self.runtime):
            raise AssertionError("%s is already installed" % self.runtime)
        os.makedirs(os.path.dirname(self.runtime), exist_ok=True)
        shutil.move(src, self.runtime)

    def runtime_sources(self):
        """Every *.py of the staged package, named by its run-time path."""
        return [s[len(self.stage):] for s in lib.sources_in(self.staged(self.package))]


def sha256_record_hash(data):
    """The RECORD form of a SHA-256 digest: urlsafe base64 without '=' padding."""
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def write_dist_info(site, dist_info):
    """A .dist-info with METADATA, INSTALLER and a RECORD listing every file
    below `site` (except RECORD itself, listed last with empty hash and size)."""
    os.makedirs(dist_info, exist_ok=True)
    with open(os.path.join(dist_info, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (DIST_NAME, DIST_VERSION))
    with open(os.path.join(dist_info, "INSTALLER"), "w") as f:
        f.write("pycemit-tests\n")
    rows = []
    for directory, dirs, files in os.walk(site):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, site)
            if rel == os.path.relpath(os.path.join(dist_info, "RECORD"), site):
                continue
            with open(path, "rb") as fh:
                data = fh.read()
            rows.append([rel, sha256_record_hash(data), str(len(data))])
    rows.append([os.path.relpath(os.path.join(dist_info, "RECORD"), site), "", ""])
    with open(os.path.join(dist_info, "RECORD"), "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def read_record(record):
    """The RECORD's rows, as lists of three fields (csv, as installers read it)."""
    with open(record, newline="") as f:
        return [row for row in csv.reader(f) if row]


def check_record_hashes(testcase, record, site, suffix=""):
    """Asserts every row of `record` with a hash (and a path ending in `suffix`)
    matches the file it names (path relative to `site`, the parent of the
    .dist-info). Returns the rows."""
    rows = read_record(record)
    for row in rows:
        testcase.assertEqual(len(row), 3, row)
        path, digest, size = row
        if not digest or not path.endswith(suffix):
            continue
        full = os.path.normpath(os.path.join(site, path))
        with open(full, "rb") as f:
            data = f.read()
        testcase.assertEqual(digest, sha256_record_hash(data), "RECORD hash of %s" % path)
        testcase.assertEqual(int(size), len(data), "RECORD size of %s" % path)
    return rows


def compile_args(python, *args):
    return ["compile", "--python", python, "-j", "2"] + list(args)


def assert_bytes_absent(testcase, paths, needle, what):
    """Asserts no file in `paths` contains the bytes of `needle` (str)."""
    encoded = needle.encode("utf-8", "surrogateescape")
    for path in paths:
        with open(path, "rb") as f:
            testcase.assertNotIn(encoded, f.read(), "%s found in %s" % (what, path))


def expectations_for(python, sources, levels, mode="checked-hash", prefix=None, embedded=None):
    """verify_pycs.py expectations for `sources` at `levels`, pycs where `python` looks
    for them (with pycache prefix `prefix`); embedded(source) -> the expected
    co_filename (default: the source path itself)."""
    expected = lib.expected_paths(python, sources, levels, prefix=prefix)
    expectations = []
    for s in sources:
        for level in levels:
            pyc = expected[s][level]
            expectations.append({"source": s, "pyc": pyc, "optimize": level, "mode": mode,
                         "embedded": embedded(s) if embedded else s})
    return expectations


def all_files(tree):
    found = []
    for directory, _, files in os.walk(tree):
        found += [os.path.join(directory, f) for f in files]
    return sorted(found)


def check_findings(output):
    """Parses `pycemit check` output: [(kind, pyc or source)]. Lines are
    "<kind> <pyc> (source <source>): <cause>", or "<kind> <path>: <cause>"
    for orphaned pycs and unreadable sources."""
    findings = []
    for line in output.splitlines():
        kind, _, rest = line.partition(" ")
        path = rest.split(" (source ", 1)[0] if " (source " in rest else rest.split(": ", 1)[0]
        findings.append((kind, os.path.abspath(path)))
    return sorted(findings)


def load_json(path):
    with open(path) as f:
        return json.load(f)


def run_script(args, env=None, timeout=900):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(args, capture_output=True, text=True, env=full_env, timeout=timeout)


def pycache_dirs(tree):
    return sorted(d for d, _, _ in os.walk(tree) if os.path.basename(d) == "__pycache__")
