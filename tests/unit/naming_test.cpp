// pyc names and paths, checked against every installed interpreter's own
// importlib.util.cache_from_source (with and without a pycache prefix).
#include "pycemit/naming.h"

#include <gtest/gtest.h>

#include <sstream>

#include "test_interpreters.h"

namespace pycemit {
namespace {

TEST(Naming, CachedFileNames) {
  EXPECT_EQ(cached_file_name("a.py", "cpython-312", 0), "a.cpython-312.pyc");
  EXPECT_EQ(cached_file_name("a.py", "cpython-312", 1), "a.cpython-312.opt-1.pyc");
  EXPECT_EQ(cached_file_name("a.b.py", "cpython-38", 2), "a.b.cpython-38.opt-2.pyc");
  EXPECT_EQ(cached_file_name("tool.pyw", "cpython-311", 0), "tool.cpython-311.pyc");
  EXPECT_EQ(cached_file_name("script", "cpython-312", 0), "scriptcpython-312.pyc");
  EXPECT_EQ(cached_file_name(".py", "cpython-312", 0), "py.cpython-312.pyc");
}

TEST(Naming, SourcelessNames) {
  EXPECT_EQ(sourceless_file_name("a.py"), "a.pyc");
  EXPECT_EQ(sourceless_file_name("a.pyw"), "a.pyc");
  EXPECT_EQ(sourceless_file_name("a.b.py"), "a.b.pyc");
}

TEST(Naming, RuntimePaths) {
  EXPECT_EQ(runtime_pyc_path("/usr/lib/p/a.py", Layout::Pycache, "cpython-312", 1),
            "/usr/lib/p/__pycache__/a.cpython-312.opt-1.pyc");
  EXPECT_EQ(runtime_pyc_path("/usr/lib/p/a.py", Layout::Prefix, "cpython-312", 0, "/var/cache/pyc"),
            "/var/cache/pyc/usr/lib/p/a.cpython-312.pyc");
  EXPECT_EQ(runtime_pyc_path("/a.py", Layout::Prefix, "cpython-312", 0, "/c/"), "/c/a.cpython-312.pyc");
  EXPECT_EQ(runtime_pyc_path("/usr/lib/p/a.py", Layout::Sourceless, "cpython-312", 0), "/usr/lib/p/a.pyc");
  EXPECT_THROW(runtime_pyc_path("rel/a.py", Layout::Pycache, "cpython-312", 0), std::invalid_argument);
  EXPECT_THROW(runtime_pyc_path("/a.py", Layout::Prefix, "cpython-312", 0, ""), std::invalid_argument);
}

TEST(Naming, ParsesCachedNames) {
  auto n = parse_cached_file_name("a.b.cpython-312.opt-2.pyc");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->stem, "a.b");
  EXPECT_EQ(n->cache_tag, "cpython-312");
  EXPECT_EQ(n->optimize, 2);
  n = parse_cached_file_name("mod.cpython-38.pyc");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->stem, "mod");
  EXPECT_EQ(n->optimize, 0);
  EXPECT_FALSE(parse_cached_file_name("mod.pyc"));
  EXPECT_FALSE(parse_cached_file_name("mod.cpython-38.opt-x.pyc"));
  EXPECT_FALSE(parse_cached_file_name("README"));
}

TEST(Naming, LayoutNames) {
  EXPECT_EQ(parse_layout("prefix"), Layout::Prefix);
  EXPECT_EQ(parse_layout("legacy"), std::nullopt);
}

// Every installed interpreter agrees with runtime_pyc_path on odd names, every
// level, with and without a pycache prefix.
TEST(NamingInterpreters, AgreesWithCacheFromSourceOfEveryInterpreter) {
  const std::vector<std::string> sources = {"/srv/app/pkg/mod.py", "/srv/app/a.b.py", "/srv/app/tool.pyw",
                                            "/srv/app dir/with space.py", "/srv/app/noext"};
  const std::string script =
      "import importlib.util, sys\n"
      "sources = sys.argv[1:]\n"
      "for prefix in (None, '/var/cache/pyc'):\n"
      "    sys.pycache_prefix = prefix\n"
      "    for s in sources:\n"
      "        for level in (0, 1, 2):\n"
      "            print(importlib.util.cache_from_source(s, optimization=level or ''))\n"
      "print(sys.implementation.cache_tag)\n";
  for (const auto& python : testing::installed_cpythons()) {
    SCOPED_TRACE(python);
    std::vector<std::string> argv = {python, "-S", "-c", script};
    argv.insert(argv.end(), sources.begin(), sources.end());
    std::istringstream out(testing::run_and_capture(argv));
    std::vector<std::string> lines;
    for (std::string line; std::getline(out, line);) lines.push_back(line);
    ASSERT_EQ(lines.size(), 2 * sources.size() * 3 + 1);
    const std::string tag = lines.back();
    std::size_t i = 0;
    for (const char* prefix : {"", "/var/cache/pyc"}) {
      const Layout layout = *prefix ? Layout::Prefix : Layout::Pycache;
      for (const auto& s : sources) {
        for (int level = 0; level <= 2; ++level) {
          EXPECT_EQ(runtime_pyc_path(s, layout, tag, level, prefix), lines[i++]) << s << " level " << level;
        }
      }
    }
  }
}

}  // namespace
}  // namespace pycemit
