#include "pycemit/reporter.h"

#include <gtest/gtest.h>

namespace pycemit {
namespace {

class Captured : public Reporter {
 public:
  using Reporter::Reporter;
  std::string err, out;

 protected:
  void to_stderr(const std::string& t) override { err += t; }
  void to_stdout(const std::string& t) override { out += t; }
};

TEST(Reporter, QuietPrintsErrorsOnly) {
  Captured r(Verbosity::Quiet, true);
  r.set_total(2);
  r.warning("a.py:1: SyntaxWarning: x");
  r.file("wrote", "a.pyc");
  r.source_done("a.py");
  r.error("b.py:1:1: SyntaxError: y");
  r.summary("pycemit: done");
  EXPECT_EQ(r.err, "b.py:1:1: SyntaxError: y\n");
  EXPECT_EQ(r.out, "");
}

TEST(Reporter, VerboseNamesFilesOnStdout) {
  Captured r(Verbosity::Verbose, false);
  r.file("wrote", "a.pyc");
  r.summary("pycemit: done");
  EXPECT_EQ(r.out, "wrote a.pyc\n");
  EXPECT_EQ(r.err, "pycemit: done\n");
}

TEST(Reporter, ProgressIsDrawnAndErasedBeforeOtherLines) {
  Captured r(Verbosity::Normal, true);
  r.set_total(1);
  r.source_done("pkg/m.py");
  EXPECT_NE(r.err.find("\r\033[K[1/1] "), std::string::npos);
  EXPECT_NE(r.err.find("pkg/m.py"), std::string::npos);
  r.error("boom");
  EXPECT_TRUE(r.err.ends_with("\r\033[Kboom\n")) << r.err;
  Captured off(Verbosity::Normal, false);
  off.set_total(1);
  off.source_done("pkg/m.py");
  EXPECT_EQ(off.err, "");
}

}  // namespace
}  // namespace pycemit
