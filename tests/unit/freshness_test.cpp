#include "pycemit/freshness.h"

#include <gtest/gtest.h>

#include "test_interpreters.h"

namespace pycemit {
namespace {

// Python's os.fsdecode (surrogateescape), then marshal's UTF-8 with
// surrogatepass: checked against every interpreter on awkward byte strings.
TEST(FreshnessInterpreters, FsdecodedUtf8MatchesPython) {
  const std::vector<std::string> paths = {"plain/a.py",           "caf\xc3\xa9.py",        "bad\xff\xfe.py",
                                          "trunc\xe2\x82",        "surrogate\xed\xa0\x80", "overlong\xc0\xaf",
                                          "emoji\xf0\x9f\x98\x80"};
  for (const auto& python : testing::installed_cpythons()) {
    for (const auto& p : paths) {
      std::string hex;
      for (unsigned char c : p) {
        char b[3];
        std::snprintf(b, sizeof b, "%02x", c);
        hex += b;
      }
      const std::string out =
          testing::run_and_capture({python, "-S", "-c",
                                    "import sys; p = bytes.fromhex(sys.argv[1]).decode('utf-8', 'surrogateescape');"
                                    "print(p.encode('utf-8', 'surrogatepass').hex())",
                                    hex});
      std::string ours;
      for (unsigned char c : fsdecoded_utf8(p)) {
        char b[3];
        std::snprintf(b, sizeof b, "%02x", c);
        ours += b;
      }
      EXPECT_EQ(ours + "\n", out) << python << " " << hex;
    }
  }
}

}  // namespace
}  // namespace pycemit
