"""The root meson.build (this repository as a Meson subproject) stays in step
with the CMake build.

Meson cannot glob, so meson.build lists the C++ sources: they must be exactly
the files in tool/src, tool/src/marshal, tool/src/cli and tool/src/remote
but for the Bazel build's stand-in for the HTTP client (read from
`meson introspect --targets` of a configured build directory, not from the
text). Also: the project version equals CMakeLists.txt's, the binary is
installed when this is the top-level project, and
meson/embed_bootstrap.py generates the same C++ as tool/bootstrap/embed.cmake
(but for the comment on its first line).
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import meson_testlib as mt  # noqa: E402

REPO = mt.REPO
SOURCE_DIRS = ["tool/src", "tool/src/marshal", "tool/src/cli", "tool/src/remote"]
# Built only where there is no libcurl (tool/BUILD.bazel), in place of http_remote_cache.cpp.
BAZEL_ONLY = {os.path.join("tool", "src", "remote", "no_remote_cache.cpp")}


class MesonBuildFileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="pycemit meson sources ")
        cls.build = os.path.join(cls.tmp.name, "build dir")
        mt.run([mt.tool("meson"), "setup", cls.build, REPO], mt.env())
        cls.targets = mt.run([mt.tool("meson"), "introspect", cls.build, "--targets"], mt.env()).stdout

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_source_lists_match_the_files(self):
        listed = set()
        for target in json.loads(self.targets):
            for group in target["target_sources"]:
                for source in group.get("sources", []):
                    relative = os.path.relpath(source, REPO)
                    if source.endswith(".cpp") and relative.startswith("tool" + os.sep):
                        listed.add(relative)
        on_disk = {os.path.relpath(p, REPO) for d in SOURCE_DIRS for p in glob.glob(os.path.join(REPO, d, "*.cpp"))}
        on_disk -= BAZEL_ONLY
        self.assertEqual(sorted(on_disk - listed), [], "in tool/src but not in meson.build: add them there")
        self.assertEqual(sorted(listed - on_disk), [], "in meson.build but not in tool/src")

    def test_version_matches_cmake(self):
        with open(os.path.join(REPO, "CMakeLists.txt")) as f:
            cmake = re.search(r"project\(pycemit VERSION (\S+)", f.read()).group(1)
        info = mt.run([mt.tool("meson"), "introspect", self.build, "--projectinfo"], mt.env()).stdout
        self.assertEqual(json.loads(info)["version"], cmake)

    def test_installs_the_binary_as_top_level_project(self):
        # (As a subproject it does not: test_meson_subproject.py.)
        found = json.loads(mt.run([mt.tool("meson"), "introspect", self.build, "--installed"], mt.env()).stdout)
        self.assertEqual([os.path.basename(f) for f in found.values()], ["pycemit"])

    def test_bootstrap_embedding_matches_cmake(self):
        interpreter = os.path.join(REPO, "tool", "bootstrap", "compiler.py")
        by_cmake = os.path.join(self.tmp.name, "by cmake.cpp")
        by_meson = os.path.join(self.tmp.name, "by meson.cpp")
        mt.run([mt.tool("cmake"), "-DINPUT=" + interpreter, "-DOUTPUT=" + by_cmake, "-P",
                os.path.join(REPO, "tool", "bootstrap", "embed.cmake")], mt.env())
        subprocess.run([sys.executable, os.path.join(REPO, "meson", "embed_bootstrap.py"), interpreter, by_meson],
                       check=True)
        with open(by_cmake, "rb") as a, open(by_meson, "rb") as b:
            cmake_lines, meson_lines = a.read().split(b"\n"), b.read().split(b"\n")
        self.assertEqual(meson_lines[1:], cmake_lines[1:])
        self.assertTrue(meson_lines[0].startswith(b"// Generated from tool/bootstrap/compiler.py"))

    def test_bootstrap_delimiter_refused(self):
        bad = os.path.join(self.tmp.name, "bad.py")
        with open(bad, "w") as f:
            f.write("x = ')PYCEMIT_BOOT\"'\n")
        out = subprocess.run([sys.executable, os.path.join(REPO, "meson", "embed_bootstrap.py"), bad,
                              os.path.join(self.tmp.name, "bad.cpp")], capture_output=True, text=True)
        self.assertEqual(out.returncode, 1)
        self.assertIn("raw-string delimiter", out.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
