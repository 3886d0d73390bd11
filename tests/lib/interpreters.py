#!/usr/bin/env python3
"""Finds every installed interpreter the tests should use.

Looks in pyenv's versions directory (`pyenv root`, else ~/.pyenv), at
/usr/bin/python3.N, /usr/local/bin/python3.N, /usr/bin/pypy3, and in the prefix
where ../shared/tools' installers put newer interpreters
($PYCEMIT_TEST_TOOLS, default /opt/pycemit-test-tools: <tool>/bin/python3.N and
<tool>/bin/pypy3). Interpreters are deduplicated by their real path and checked
by running them. The tests fail, not skip, when fewer than three CPython >= 3.8
are found: run as a script, this exits 1 with a message then.

Targets are the interpreters pycemit writes pycs for: CPython and PyPy of
Python 3.8 or later.

As a script:
  (no argument)  one CPython >= 3.8 per line, oldest first (the C++ tests' list)
  --targets      "path<TAB>implementation<TAB>version" of every target
  --all          the same for every interpreter found (refused ones too)
  --check-setup REGISTERED
                 exits 1 unless every interpreter that .ci/setup reported
                 installed ($PYCEMIT_TEST_TOOLS/setup-report.txt) is a target
                 found here and among REGISTERED (':'-separated paths, the
                 interpreters the test suite registered per-interpreter tests for)
"""
import glob
import os
import re
import subprocess
import sys

MINIMUM_COUNT = 3
PROBE = "import sys; print(sys.implementation.name, '%d.%d.%d' % sys.version_info[:3])"
TOOLS_PREFIX = os.environ.get("PYCEMIT_TEST_TOOLS", "/opt/pycemit-test-tools")


def is_interpreter_tool(tool):
    """Whether an installer's tool name is an interpreter (../shared/tools/debian-interpreters
    names them python3.N, pypy3, pypy3-sid), not a build tool (meson, cmake, bazel)."""
    return re.fullmatch(r"python3\.\d+", tool) is not None or tool.startswith("pypy")


def _pyenv_root():
    try:
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return os.path.expanduser("~/.pyenv")


def _versioned(directory):
    return sorted(p for p in glob.glob(os.path.join(directory, "python3.*"))
                  if re.fullmatch(r"python3\.\d+", os.path.basename(p)))


def _candidates():
    found = sorted(glob.glob(os.path.join(_pyenv_root(), "versions", "*", "bin", "python3")))
    for d in ["/usr/bin", "/usr/local/bin"] + sorted(glob.glob(os.path.join(TOOLS_PREFIX, "*", "bin"))):
        found += _versioned(d)
    found += [p for p in ["/usr/bin/pypy3", "/usr/local/bin/pypy3"] if os.path.exists(p)]
    found += sorted(glob.glob(os.path.join(TOOLS_PREFIX, "*", "bin", "pypy3")))
    return found


def probe(path):
    """Returns (implementation, (major, minor, micro)) or None if `path` does not run."""
    try:
        out = subprocess.run([path, "-S", "-c", PROBE], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    impl, version = out.stdout.split()
    return impl, tuple(int(x) for x in version.split("."))


_ALL = None


def all_interpreters():
    """[(path, implementation, version)] for every candidate, one per real path."""
    global _ALL
    if _ALL is None:
        seen = set()
        result = []
        for path in _candidates():
            real = os.path.realpath(path)
            if real in seen or not os.access(real, os.X_OK):
                continue
            seen.add(real)
            info = probe(path)
            if info:
                result.append((path, info[0], info[1]))
        result.sort(key=lambda r: (r[1] != "cpython", r[2], r[0]))
        _ALL = result
    return _ALL


def is_target(implementation, version):
    return implementation in ("cpython", "pypy") and version >= (3, 8)


def targets():
    """[(path, implementation, version)]: every CPython and PyPy >= 3.8, CPythons first, oldest first."""
    return [r for r in all_interpreters() if is_target(r[1], r[2])]


def cpythons():
    """Paths of every CPython >= 3.8, oldest first; one per minor version is not
    enforced (Debian's 3.11 and pyenv's 3.11 are both used)."""
    return [p for p, impl, v in all_interpreters() if impl == "cpython" and v >= (3, 8)]


def pypys():
    """Paths of every PyPy >= 3.8, oldest first."""
    return [p for p, impl, v in all_interpreters() if impl == "pypy" and v >= (3, 8)]


def refused_interpreters():
    """[(path, implementation, version)] that pycemit must refuse: CPython older
    than 3.8 and pyenv's python2 binaries; fails when there is none."""
    refused = [(p, impl, v) for p, impl, v in all_interpreters() if not is_target(impl, v)]
    refused += [(p, "cpython", (2, 7)) for p in glob.glob(os.path.join(_pyenv_root(), "versions", "2.7*", "bin", "python2"))]
    if not refused:
        raise RuntimeError("expected an old CPython on this machine")
    return refused


def require_cpythons():
    """cpythons(), or raises RuntimeError when fewer than three are installed."""
    found = cpythons()
    if len(found) < MINIMUM_COUNT:
        raise RuntimeError("the tests need at least %d CPython >= 3.8 interpreters, found %d: %s"
                           % (MINIMUM_COUNT, len(found), found))
    return found


def installed_by_setup():
    """[(tool, version, path)] of the interpreters .ci/setup reported installed."""
    report = os.path.join(TOOLS_PREFIX, "setup-report.txt")
    if not os.path.exists(report):
        return []
    found = []
    with open(report) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4 and parts[0] == "ok" and is_interpreter_tool(parts[1]):
                found.append((parts[1], parts[2], parts[3]))
    return found


def check_setup(registered):
    """Problems: installed interpreters that are not exercised."""
    target_paths = {os.path.realpath(p) for p, _, _ in targets()}
    registered_paths = {os.path.realpath(p) for p in registered if p}
    problems = []
    for tool, version, path in installed_by_setup():
        real = os.path.realpath(path)
        if real not in target_paths:
            problems.append("%s %s (%s) was installed but is not found as a test interpreter" % (tool, version, path))
        elif real not in registered_paths:
            problems.append("%s %s (%s) was installed but no per-interpreter test runs it" % (tool, version, path))
    return problems


def _print_rows(rows):
    for path, impl, version in rows:
        print("%s\t%s\t%s" % (path, impl, ".".join(map(str, version))))


if __name__ == "__main__":
    if "--all" in sys.argv:
        _print_rows(all_interpreters())
        sys.exit(0)
    if "--targets" in sys.argv:
        _print_rows(targets())
        sys.exit(0)
    if "--check-setup" in sys.argv:
        registered = sys.argv[sys.argv.index("--check-setup") + 1].split(":")
        print("interpreters the tests exercise:")
        _print_rows(targets())
        installed = installed_by_setup()
        print("installed by .ci/setup: %s" % (", ".join("%s %s" % (t, v) for t, v, _ in installed) or "none"))
        problems = check_setup(registered)
        for problem in problems:
            print("interpreters.py: " + problem, file=sys.stderr)
        try:
            require_cpythons()
        except RuntimeError as e:
            problems.append(str(e))
            print("interpreters.py: %s" % e, file=sys.stderr)
        sys.exit(1 if problems else 0)
    try:
        for p in require_cpythons():
            print(p)
    except RuntimeError as e:
        print("interpreters.py: %s" % e, file=sys.stderr)
        sys.exit(1)
