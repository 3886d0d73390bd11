// The compile cache's options (compile_cache_options.h): sizes, remote URLs,
// credential files and the environment variables.
#include "pycemit/compile_cache_options.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "pycemit/plan.h"
#include "test_tree.h"

namespace pycemit {
namespace {

TEST(CompileCacheOptions, SizesTakeBinarySuffixes) {
  EXPECT_EQ(parse_size("1048576", "--x"), 1048576u);
  EXPECT_EQ(parse_size("200K", "--x"), 200u * 1024);
  EXPECT_EQ(parse_size("500M", "--x"), 500u << 20);
  EXPECT_EQ(parse_size("2GiB", "--x"), std::uint64_t{2} << 30);
  EXPECT_EQ(parse_size("2gb", "--x"), std::uint64_t{2} << 30);
  EXPECT_EQ(parse_size("1T", "--x"), std::uint64_t{1} << 40);
  for (const char* bad : {"", "0", "-1", "1X", "M", "1.5G", "99999999999999999999", "20000000T"}) {
    EXPECT_THROW(parse_size(bad, "--x"), PlanError) << bad;
  }
}

TEST(CompileCacheOptions, RemoteUrlsAreHttpWithoutCredentials) {
  EXPECT_EQ(checked_remote_cache_url("http://127.0.0.1:8080/pyc/"), "http://127.0.0.1:8080/pyc");
  EXPECT_EQ(checked_remote_cache_url("https://cache.example/ac"), "https://cache.example/ac");
  EXPECT_THROW(checked_remote_cache_url("ftp://cache.example/"), PlanError);
  EXPECT_THROW(checked_remote_cache_url("cache.example"), PlanError);
  EXPECT_THROW(checked_remote_cache_url("http:///pyc"), PlanError);
  try {
    checked_remote_cache_url("http://user:secret@cache.example/pyc");
    FAIL();
  } catch (const PlanError& e) {
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos);  // not repeated in the error
  }
}

TEST(CompileCacheOptions, CredentialFilesGiveTheirFirstLine) {
  testing::TempTree tree;
  EXPECT_EQ(read_credential_file(tree.write("token", "s3cret \nignored\n")), "s3cret");
  EXPECT_THROW(read_credential_file(tree.write("empty", "\n")), PlanError);
  EXPECT_THROW(read_credential_file(tree / "missing"), PlanError);
}

TEST(CompileCacheOptions, TheEnvironmentNamesBothCaches) {
  ::setenv("PYCEMIT_COMPILE_CACHE", "/var/cache/pyc", 1);
  ::setenv("PYCEMIT_COMPILE_CACHE_MAX_SIZE", "3G", 1);
  ::setenv("PYCEMIT_REMOTE_CACHE", "http://cache:8080/pyc/", 1);
  ::setenv("PYCEMIT_REMOTE_CACHE_READ_ONLY", "1", 1);
  ::setenv("PYCEMIT_REMOTE_CACHE_TOKEN", "tok", 1);
  CompileCacheOptions o = compile_cache_options_from_environment();
  EXPECT_EQ(o.directory, "/var/cache/pyc");
  EXPECT_EQ(o.max_bytes, std::uint64_t{3} << 30);
  ASSERT_TRUE(o.remote);
  EXPECT_EQ(o.remote->url, "http://cache:8080/pyc");
  EXPECT_TRUE(o.remote->read_only);
  EXPECT_EQ(o.remote->bearer_token, "tok");
  ::setenv("PYCEMIT_REMOTE_CACHE_READ_ONLY", "0", 1);
  EXPECT_FALSE(compile_cache_options_from_environment().remote->read_only);
  for (const char* name : {"PYCEMIT_COMPILE_CACHE", "PYCEMIT_COMPILE_CACHE_MAX_SIZE", "PYCEMIT_REMOTE_CACHE",
                           "PYCEMIT_REMOTE_CACHE_READ_ONLY", "PYCEMIT_REMOTE_CACHE_TOKEN"}) {
    ::unsetenv(name);
  }
  o = compile_cache_options_from_environment();
  EXPECT_FALSE(o.enabled());
  ::setenv("PYCEMIT_COMPILE_CACHE", "", 1);  // empty is unset
  EXPECT_FALSE(compile_cache_options_from_environment().enabled());
  ::unsetenv("PYCEMIT_COMPILE_CACHE");
}

}  // namespace
}  // namespace pycemit
