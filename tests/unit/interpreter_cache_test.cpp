#include "pycemit/interpreter_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include "pycemit/interpreter_pool.h"
#include "test_interpreters.h"
#include "test_tree.h"

namespace pycemit {
namespace {

class InterpreterCache : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv("PYCEMIT_CACHE_DIR", cache_.path().c_str(), 1); }
  void TearDown() override { ::unsetenv("PYCEMIT_CACHE_DIR"); }
  testing::TempTree cache_;
};

// The tests that run a real interpreter (the "interpreter" tier, tests/CMakeLists.txt).
class InterpreterCacheInterpreters : public InterpreterCache {};

TEST_F(InterpreterCacheInterpreters, RemembersANativeInterpreterUntilItChanges) {
  testing::TempTree t;
  const std::string real = testing::installed_cpythons().front();
  // A private copy of a native interpreter binary whose identity we can change.
  const std::string copy = t / "python";
  std::filesystem::copy_file(std::filesystem::canonical(real), copy);
  ::chmod(copy.c_str(), 0755);
  EXPECT_FALSE(load_cached_interpreter(copy));
  InterpreterPool pool(real, 1, std::chrono::seconds(60));
  InterpreterInfo info = pool.handshake();
  info.executable = copy;
  store_cached_interpreter(info);
  auto cached = load_cached_interpreter(copy);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->cache_tag, info.cache_tag);
  EXPECT_EQ(cached->magic, info.magic);
  // Touching the binary (an upgrade in place) invalidates the entry.
  const timespec later[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, copy.c_str(), later, 0), 0);
  EXPECT_FALSE(load_cached_interpreter(copy));
}

TEST_F(InterpreterCache, ScriptsAreNeverCached) {
  testing::TempTree t;
  const std::string shim = t.write("python3", "#!/bin/sh\nexec python3 \"$@\"\n");
  ::chmod(shim.c_str(), 0755);
  InterpreterInfo info;
  info.executable = shim;
  info.implementation = "cpython";
  info.major = 3;
  info.minor = 12;
  info.cache_tag = "cpython-312";
  info.magic = {0xcb, 0x0d, '\r', '\n'};
  info.marshal_version = 4;
  store_cached_interpreter(info);
  EXPECT_FALSE(load_cached_interpreter(shim));
}

TEST_F(InterpreterCacheInterpreters, LearnUsesTheCacheAndStartsNoInterpreter) {
  const std::string python = testing::installed_cpythons().back();
  {
    InterpreterPool first(python, 1, std::chrono::seconds(60));
    learn_interpreter(first);
    EXPECT_EQ(first.processes_started(), 1);
  }
  InterpreterPool second(python, 1, std::chrono::seconds(60));
  const InterpreterInfo info = learn_interpreter(second);
  EXPECT_EQ(second.processes_started(), 0);
  EXPECT_EQ(info.executable, python);
}

}  // namespace
}  // namespace pycemit
