"""add_python_bytecode() after FetchContent (add_subdirectory) of this repository.

A consuming project fetches pycemit's sources with FetchContent (pointed at
this checkout by FETCHCONTENT_SOURCE_DIR_PYCEMIT, so nothing is downloaded) and
calls add_python_bytecode() with no find_package(PycEmit). Its configure step
builds a host copy of pycemit (once: this test is slow, a full build of the
tool), which plans and compiles; the consumer's default build does not build
the tool again; the pycs are installed with DESTDIR, name their final path and
are used on import. No CMake warnings (policies, version ranges, deprecations), with
CMake 3.25 and 4.x: this test runs once per CMake version found (cmake_testlib.tool).
"""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import cmake_testlib as cmk  # noqa: E402
import pycemit_testlib as lib  # noqa: E402

CONSUMER = """\
cmake_minimum_required(VERSION 3.20...4.3)
project(consumer LANGUAGES NONE)
include(FetchContent)
FetchContent_Declare(pycemit GIT_REPOSITORY https://example.invalid/pycemit.git GIT_TAG main)
FetchContent_MakeAvailable(pycemit)

find_package(Python3 COMPONENTS Interpreter REQUIRED)
add_python_bytecode(consumer_pycs ALL
  SOURCES %s
  SOURCE_ROOT src
  OPTIMIZE 0 2
  INSTALL_DESTINATION lib/python3/site-packages)
"""
FINAL_PREFIX = "/usr/local/consumer"
HOST_FLAGS = "-DCMAKE_CXX_FLAGS_RELEASE=-O0"


class SubprojectTest(unittest.TestCase):
    def test_fetchcontent(self):
        python = lib.target_pythons()[-1]
        with tempfile.TemporaryDirectory(prefix="pycemit cmake subproject ") as tmp:
            src = os.path.join(tmp, "consumer src")
            os.makedirs(src)
            cmk.copy_example(os.path.join(tmp, "example"))
            os.rename(os.path.join(tmp, "example", "src"), os.path.join(src, "src"))
            with open(os.path.join(src, "CMakeLists.txt"), "w") as f:
                f.write(CONSUMER % " ".join("src/" + rel for rel in cmk.EXAMPLE_SOURCES))
            build = os.path.join(tmp, "consumer build")
            # The host tool without optimization: it compiles in about 60% of the time of the
            # default Release flags (the bytes it writes do not depend on them), and this checks
            # that PYCEMIT_HOST_CMAKE_ARGS reaches the host build.
            settings = {"FETCHCONTENT_SOURCE_DIR_PYCEMIT": cmk.REPO, "FETCHCONTENT_FULLY_DISCONNECTED": "ON",
                        "Python3_EXECUTABLE": python, "CMAKE_INSTALL_PREFIX": FINAL_PREFIX,
                        "PYCEMIT_HOST_CMAKE_ARGS": HOST_FLAGS, "PYCEMIT_VERBOSE": "ON"}
            configured = cmk.configure(src, build, "Ninja", settings)
            self.assertIn("PycEmit: building the pycemit host tool", configured.output)
            with open(os.path.join(build, "_deps", "pycemit-build", "pycemit-host", "build", "CMakeCache.txt")) as f:
                self.assertIn("CMAKE_CXX_FLAGS_RELEASE:STRING=-O0", f.read())
            # No policy, range or deprecation warnings (pycemit's CMakeLists.txt, FetchContent,
            # PycEmit.cmake), with CMake 3.25 and 4.x alike.
            self.assertEqual(cmk.cmake_warnings(configured.output), [], configured.output[-4000:])

            built = cmk.build(build)
            self.assertEqual(cmk.written_sources(built.output), sorted(cmk.EXAMPLE_SOURCES))
            self.assertIn("ninja: no work to do", cmk.build(build).output)
            # The tool itself is not part of the consumer's default build.
            self.assertFalse(os.path.exists(os.path.join(build, "_deps", "pycemit-build", "pycemit")))

            # Reconfiguring rebuilds nothing (the host tool is up to date).
            cmk.configure(src, build, "Ninja", settings)
            self.assertIn("ninja: no work to do", cmk.build(build).output)

            destdir = os.path.join(tmp, "stage dir")
            cmk.install(build, destdir=destdir)
            final_root = FINAL_PREFIX + "/lib/python3/site-packages"
            staged_root = destdir + final_root
            staged = [staged_root + "/" + rel for rel in cmk.EXAMPLE_SOURCES]
            expected = lib.expected_paths(python, staged, [0, 2])
            pycs = sorted(p for by_level in expected.values() for p in by_level.values())
            self.assertEqual(cmk.pycs_in(destdir), pycs)
            info = cmk.pyc_info(python, pycs)
            for rel in cmk.EXAMPLE_SOURCES:
                for pyc in expected[staged_root + "/" + rel].values():
                    self.assertEqual(info[pyc]["filenames"], [final_root + "/" + rel])
                    with open(pyc, "rb") as f:
                        data = f.read()
                    for leak in (build, destdir, src):
                        self.assertNotIn(leak.encode(), data)
            lib.verify(python, [{"source": staged_root + "/" + rel, "pyc": pyc, "optimize": level,
                                 "mode": "checked-hash", "embedded": final_root + "/" + rel}
                                for rel in cmk.EXAMPLE_SOURCES
                                for level, pyc in expected[staged_root + "/" + rel].items()])
            files, loaded, stale = lib.imported_from(python, staged_root, cmk.EXAMPLE_MODULES, ["-OO"])
            self.assertEqual(stale, [])
            for module, file in files.items():
                self.assertIn(expected[file][2], loaded, module)


if __name__ == "__main__":
    unittest.main(verbosity=2)
