#!/usr/bin/env python3
"""Finds the build tools (bazel, meson, cmake) the wrapper tests run with.

Two places, each tool at most once per version:

  * the system's: the tool on PATH (Debian 12: Bazel 4.2.3, Meson 1.0.1, CMake 3.25.1);
  * newer ones: the directory named by $PYCEMIT_TEST_TOOLS, else /opt/pycemit-test-tools/bin
    (where ../shared/tools/debian-build-tools installs Debian sid's Bazel 7, Meson 1.x and
    CMake 4.x).

A tool counts only if it runs and reports a version (`<tool> --version`; Debian's
bazel-bootstrap 4.2.3 prints "no_version", so its version comes from dpkg).

A wrapper test script (tests/integration/test_{bazel,meson,cmake}*.py) runs with one tool,
named by $PYCEMIT_BAZEL, $PYCEMIT_MESON or $PYCEMIT_CMAKE (unset: the tool on PATH). A
script that needs a minimum version says so in a line of its own:

    TOOL_REQUIREMENT = "meson >= 1.2"

As a script, `build_tools.py --registrations SCRIPT...` prints what tests/CMakeLists.txt
registers with ctest, one test per script and applicable tool version, as
"<test name>\\t<script>\\t<VARIABLE>=<tool path>" lines (test name:
integration.<stem>.<version>). A script whose tool is not installed at all gets one
line without the variable, so that its test fails instead of silently not running.
Every line not starting with "integration." is a note for CMake to print
(which tools were found, which tests were not registered and why).
`build_tools.py --list` prints "<tool>\\t<version>\\t<path>" for every tool found.
"""
import os
import re
import shutil
import subprocess
import sys

TOOLS = ("bazel", "meson", "cmake")
DEFAULT_NEWER_DIR = "/opt/pycemit-test-tools/bin"
VARIABLES = {"bazel": "PYCEMIT_BAZEL", "meson": "PYCEMIT_MESON", "cmake": "PYCEMIT_CMAKE"}


def newer_tools_dir():
    """The directory of the newer tools: $PYCEMIT_TEST_TOOLS, else /opt/pycemit-test-tools/bin."""
    return os.environ.get("PYCEMIT_TEST_TOOLS") or DEFAULT_NEWER_DIR


def _dpkg_version(path):
    """The Debian package version of the package owning `path` ("4.2.3+ds-9" -> "4.2.3")."""
    try:
        owner = subprocess.run(["dpkg-query", "-S", os.path.realpath(path)], capture_output=True, text=True,
                               timeout=60)
        if owner.returncode != 0:
            return None
        package = owner.stdout.split(":", 1)[0].strip()
        version = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True,
                                 text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"(?:\d+:)?(\d+(?:\.\d+)+)", version.stdout.strip())
    return match.group(1) if version.returncode == 0 and match else None


def tool_version(tool, path):
    """The version string of the `tool` at `path` ("7.7.1"), or None if it does not run."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=300,
                             cwd="/", errors="replace")
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)", out.stdout)
    if match:
        return match.group(1)
    if tool == "bazel" and "no_version" in out.stdout:
        return _dpkg_version(path)
    return None


def version_tuple(version):
    return tuple(int(x) for x in version.split("."))


def find(tool):
    """[(version, path)] of every `tool` found, the system's first; one per version."""
    candidates = [shutil.which(tool), os.path.join(newer_tools_dir(), tool)]
    found, versions = [], set()
    for path in candidates:
        if not path or not os.access(path, os.X_OK):
            continue
        version = tool_version(tool, path)
        if version and version not in versions:
            versions.add(version)
            found.append((version, os.path.abspath(path)))
    return found


_ANNOUNCED = {}


def tool_under_test(tool):
    """(path, version tuple) of the `tool` a wrapper test runs with: $PYCEMIT_<TOOL>, else
    the one on PATH. Fails (never skips) when it is missing or does not run. Prints the
    tool and its version to stderr the first time, so every run says which version ran."""
    if tool in _ANNOUNCED:
        return _ANNOUNCED[tool]
    variable = VARIABLES[tool]
    path = os.environ.get(variable) or shutil.which(tool)
    if not path:
        raise AssertionError("%s is not installed (.ci/setup installs Debian's; set %s to use another)"
                             % (tool, variable))
    version = tool_version(tool, path)
    if not version:
        raise AssertionError("%s (%s) does not run or reports no version" % (path, tool))
    print("wrapper test: %s %s (%s)" % (tool, version, path), file=sys.stderr, flush=True)
    _ANNOUNCED[tool] = (os.path.abspath(path), version_tuple(version))
    return _ANNOUNCED[tool]


def requirement(script):
    """(tool, minimum version tuple or None) for a wrapper test script, from its name
    (test_<tool>...) and its TOOL_REQUIREMENT line."""
    stem = os.path.basename(script)[len("test_"):-len(".py")]
    tool = next(t for t in TOOLS if stem.startswith(t))
    with open(script, encoding="utf-8") as f:
        match = re.search(r'^TOOL_REQUIREMENT = "(\w+) >= ([\d.]+)"$', f.read(), re.M)
    if not match:
        return tool, None
    if match.group(1) != tool:
        raise SystemExit("%s: TOOL_REQUIREMENT names %s, but the script tests %s" % (script, match.group(1), tool))
    return tool, version_tuple(match.group(2))


def registrations(scripts):
    """Lines for tests/CMakeLists.txt (see the module docstring)."""
    found = {tool: find(tool) for tool in TOOLS}
    lines = []
    for tool in TOOLS:
        where = ", ".join("%s %s (%s)" % (tool, v, p) for v, p in found[tool]) or "none"
        lines.append("%s found: %s" % (tool, where))
    if not any(os.path.dirname(p) == os.path.abspath(newer_tools_dir()) for t in TOOLS for _, p in found[t]):
        lines.append("no newer build tools in %s (set PYCEMIT_TEST_TOOLS to their directory): "
                     "the wrapper tests run with the system's tools only" % newer_tools_dir())
    for script in sorted(scripts):
        stem = os.path.basename(script)[len("test_"):-len(".py")]
        tool, minimum = requirement(script)
        if not found[tool]:
            lines.append("integration.%s\t%s" % (stem, script))
            continue
        applicable = [(v, p) for v, p in found[tool] if minimum is None or version_tuple(v) >= minimum]
        for version, path in applicable:
            lines.append("integration.%s.%s\t%s\t%s=%s" % (stem, version, script, VARIABLES[tool], path))
        for version, path in found[tool]:
            if (version, path) not in applicable:
                lines.append("not registered: integration.%s.%s (needs %s >= %s)" % (
                    stem, version, tool, ".".join(map(str, minimum))))
    return lines


def main(argv):
    if argv[:1] == ["--list"]:
        for tool in TOOLS:
            for version, path in find(tool):
                print("%s\t%s\t%s" % (tool, version, path))
        return 0
    if argv[:1] == ["--registrations"]:
        print("\n".join(registrations(argv[1:])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
