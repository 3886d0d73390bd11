#!/usr/bin/env python3
"""Finds every installed CPython >= 3.8 the tests should use.

Looks in pyenv's versions directory (`pyenv root`, else ~/.pyenv) and at
/usr/bin/python3.N and /usr/local/bin/python3.N. Interpreters are deduplicated by
their real path and checked by running them. The tests fail, not skip, when
fewer than three are found: run as a script, this exits 1 with a message then.

As a script: prints one interpreter path per line, oldest version first.
`--all` also prints interpreters that are not CPython >= 3.8 (for tests of
refusal), as "path<TAB>implementation<TAB>version".
"""
import glob
import os
import re
import shutil
import subprocess
import sys

MINIMUM_COUNT = 3
PROBE = "import sys; print(sys.implementation.name, '%d.%d.%d' % sys.version_info[:3])"


def _pyenv_root():
    try:
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return os.path.expanduser("~/.pyenv")


def _candidates():
    root = _pyenv_root()
    found = sorted(glob.glob(os.path.join(root, "versions", "*", "bin", "python3")))
    for d in ("/usr/bin", "/usr/local/bin"):
        found += sorted(p for p in glob.glob(os.path.join(d, "python3.*"))
                        if re.fullmatch(r"python3\.\d+", os.path.basename(p)))
    pypy = shutil.which("pypy3")
    return found + ([pypy] if pypy else [])


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


def all_interpreters():
    """[(path, implementation, version)] for every candidate, one per real path."""
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
    result.sort(key=lambda r: (r[2], r[0]))
    return result


def cpythons():
    """Paths of every CPython >= 3.8, oldest first; one per minor version is not
    enforced (Debian's 3.11 and pyenv's 3.11 are both used)."""
    return [p for p, impl, v in all_interpreters() if impl == "cpython" and v >= (3, 8)]


def refused_interpreters():
    """[(path, implementation, version)] that pycemit must refuse: PyPy, CPython
    older than 3.8, and pyenv's python2 binaries; fails when there is none."""
    refused = [(p, impl, v) for p, impl, v in all_interpreters() if impl != "cpython" or v < (3, 8)]
    refused += [(p, "cpython", (2, 7)) for p in glob.glob(os.path.join(_pyenv_root(), "versions", "2.7*", "bin", "python2"))]
    if not refused:
        raise RuntimeError("expected an old CPython or PyPy on this machine")
    return refused


def require_cpythons():
    """cpythons(), or raises RuntimeError when fewer than three are installed."""
    found = cpythons()
    if len(found) < MINIMUM_COUNT:
        raise RuntimeError("the tests need at least %d CPython >= 3.8 interpreters, found %d: %s"
                           % (MINIMUM_COUNT, len(found), found))
    return found


if __name__ == "__main__":
    if "--all" in sys.argv:
        for path, impl, version in all_interpreters():
            print("%s\t%s\t%s" % (path, impl, ".".join(map(str, version))))
        sys.exit(0)
    try:
        for p in require_cpythons():
            print(p)
    except RuntimeError as e:
        print("interpreters.py: %s" % e, file=sys.stderr)
        sys.exit(1)
