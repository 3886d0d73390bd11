// The compile cache's key and entry check (compile_cache_entry.h): the key
// text is exactly the documented encoding (docs/cache.md), every input changes
// the key, and an entry becomes a pyc only when it is a canonical code object
// compiled for the expected embedded path.
#include "pycemit/compile_cache_entry.h"

#include <gtest/gtest.h>

#include "canned_code.h"
#include "pycemit/manifest.h"

namespace pycemit {
namespace {

using testing::code_for;
using testing::cpython312;

const std::string kSourceSha256 = sha256_hex("x = 1\n");

TEST(CompileCacheKey, IsTheSha256OfTheDocumentedText) {
  InterpreterInfo info = cpython312();
  info.implementation_version = "3.12.1";
  const std::string text = compile_cache_key_text(info, 1, "pkg/mod.py", kSourceSha256);
  EXPECT_EQ(text,
            "pycemit compile cache\n"
            "cache-format 1\n"
            "canonical-marshal 1\n"
            "implementation cpython\n"
            "version 3.12.1 final 0\n"
            "implementation-version 3.12.1\n"
            "free-threaded 0\n"
            "cache-tag cpython-312\n"
            "magic-number 3531\n"
            "marshal-version 4\n"
            "optimization-level 1\n"
            "embedded-path 10 pkg/mod.py\n"
            "source-sha256 " +
                kSourceSha256 + "\n");
  EXPECT_EQ(compile_cache_key(info, 1, "pkg/mod.py", kSourceSha256), sha256_hex(text));
  EXPECT_EQ(compile_cache_key(info, 1, "pkg/mod.py", kSourceSha256).size(), 64u);
}

TEST(CompileCacheKey, EveryInputChangesIt) {
  const InterpreterInfo base = cpython312();
  const std::string key = compile_cache_key(base, 0, "pkg/mod.py", kSourceSha256);
  auto differs = [&](const InterpreterInfo& info, int level, const std::string& path, const std::string& sha) {
    return compile_cache_key(info, level, path, sha) != key;
  };
  EXPECT_TRUE(differs(base, 1, "pkg/mod.py", kSourceSha256));
  EXPECT_TRUE(differs(base, 0, "/usr/lib/pkg/mod.py", kSourceSha256));
  EXPECT_TRUE(differs(base, 0, "pkg/mod.py", sha256_hex("x = 2\n")));
  InterpreterInfo other = base;
  other.micro = 2;
  EXPECT_TRUE(differs(other, 0, "pkg/mod.py", kSourceSha256));
  other = base;
  other.release_level = "candidate";
  EXPECT_TRUE(differs(other, 0, "pkg/mod.py", kSourceSha256));
  other = base;
  other.implementation = "pypy";
  EXPECT_TRUE(differs(other, 0, "pkg/mod.py", kSourceSha256));
  other = base;
  other.free_threaded = true;
  EXPECT_TRUE(differs(other, 0, "pkg/mod.py", kSourceSha256));
  other = base;
  other.magic = {0xcc, 0x0d, 0x0d, 0x0a};
  EXPECT_TRUE(differs(other, 0, "pkg/mod.py", kSourceSha256));
  other = base;
  other.marshal_version = 5;
  EXPECT_TRUE(differs(other, 0, "pkg/mod.py", kSourceSha256));
}

TEST(CompileCacheKey, ThePathLengthKeepsANewlineInAPathUnambiguous) {
  const InterpreterInfo info = cpython312();
  EXPECT_NE(compile_cache_key_text(info, 0, "a\nsource-sha256 x", kSourceSha256),
            compile_cache_key_text(info, 0, "a", kSourceSha256));
  EXPECT_NE(compile_cache_key_text(info, 0, "a\nsource-sha256 x", kSourceSha256).find("embedded-path 17 a\n"),
            std::string::npos);
}

TEST(CompileCacheEntry, ACanonicalCodeObjectForThePathPasses) {
  const std::string entry = marshal::canonicalize(code_for("pkg/mod.py"), marshal::CodeLayout::Py311);
  EXPECT_EQ(compile_cache_entry_problem(entry, marshal::CodeLayout::Py311, "pkg/mod.py"), std::nullopt);
}

TEST(CompileCacheEntry, AnythingElseIsRefusedWithItsReason) {
  const std::string entry = marshal::canonicalize(code_for("pkg/mod.py"), marshal::CodeLayout::Py311);
  const auto problem = [](const std::string& e, std::string_view path = "pkg/mod.py") {
    return compile_cache_entry_problem(e, marshal::CodeLayout::Py311, path).value_or("");
  };
  EXPECT_NE(problem(entry, "pkg/other.py").find("not \"pkg/other.py\""), std::string::npos);
  EXPECT_EQ(problem(code_for("pkg/mod.py")), "not in canonical form");  // CPython's own FLAG_REF bits
  EXPECT_NE(problem(entry.substr(0, entry.size() - 3)).find("not a marshalled code object"), std::string::npos);
  EXPECT_NE(problem(entry + "x").find("not a marshalled code object"), std::string::npos);
  EXPECT_NE(problem("").find("not a marshalled code object"), std::string::npos);
  EXPECT_NE(problem("\xe9\x01\x00\x00\x00").find("not a marshalled code object"), std::string::npos);  // an int
  EXPECT_NE(problem(std::string(kMaxCompileCacheEntryBytes + 1, 'c')).find("larger than"), std::string::npos);
  // Another layout's reading of the same bytes is not this entry.
  EXPECT_TRUE(compile_cache_entry_problem(entry, marshal::CodeLayout::Py38, "pkg/mod.py"));
}

}  // namespace
}  // namespace pycemit
