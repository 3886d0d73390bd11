// Output paths and embedded paths for every combination of roots.
#include "pycemit/plan.h"

#include <gtest/gtest.h>

namespace pycemit {
namespace {

SourceFile source(const std::string& abs) { return {abs, abs}; }

TEST(Plan, InPlaceDefaultsEmbedTheRelativePath) {
  LocationOptions given;
  given.source_root = "/src/proj";
  const auto loc = resolve_locations(given, Layout::Pycache);
  const auto p = plan_source(source("/src/proj/pkg/m.py"), loc, Layout::Pycache, "cpython-312", {0, 1});
  EXPECT_EQ(p.relative, "pkg/m.py");
  EXPECT_EQ(p.embedded_path, "pkg/m.py");
  ASSERT_EQ(p.outputs.size(), 2u);
  EXPECT_EQ(p.outputs[0].path, "/src/proj/pkg/__pycache__/m.cpython-312.pyc");
  EXPECT_EQ(p.outputs[1].path, "/src/proj/pkg/__pycache__/m.cpython-312.opt-1.pyc");
}

TEST(Plan, InstallRootAndOutputRoot) {
  LocationOptions given;
  given.source_root = "/checkout/src";
  given.install_root = "/usr/lib/python3/dist-packages";
  given.output_root = "/build/pyc";
  const auto loc = resolve_locations(given, Layout::Pycache);
  const auto p = plan_source(source("/checkout/src/pkg/m.py"), loc, Layout::Pycache, "cpython-311", {0});
  EXPECT_EQ(p.embedded_path, "/usr/lib/python3/dist-packages/pkg/m.py");
  EXPECT_EQ(p.outputs[0].runtime_path, "/usr/lib/python3/dist-packages/pkg/__pycache__/m.cpython-311.pyc");
  EXPECT_EQ(p.outputs[0].path, "/build/pyc/pkg/__pycache__/m.cpython-311.pyc");
}

TEST(Plan, StagingRootWithRunTimePrefix) {
  LocationOptions given;
  given.staging_root = "/stage";
  given.source_root = "/stage/usr/lib/python3.12";
  given.pycache_prefix = "/var/cache/pyc";
  const auto loc = resolve_locations(given, Layout::Prefix);
  EXPECT_EQ(loc.install_root, "/usr/lib/python3.12");
  const auto p =
      plan_source(source("/stage/usr/lib/python3.12/json/decoder.py"), loc, Layout::Prefix, "cpython-312", {0, 1});
  EXPECT_EQ(p.embedded_path, "/usr/lib/python3.12/json/decoder.py");
  EXPECT_EQ(p.outputs[1].runtime_path, "/var/cache/pyc/usr/lib/python3.12/json/decoder.cpython-312.opt-1.pyc");
  EXPECT_EQ(p.outputs[1].path, "/stage/var/cache/pyc/usr/lib/python3.12/json/decoder.cpython-312.opt-1.pyc");
}

TEST(Plan, StagingRootAloneIsTheSourceRoot) {
  LocationOptions given;
  given.staging_root = "/stage";
  const auto loc = resolve_locations(given, Layout::Sourceless);
  const auto p = plan_source(source("/stage/opt/app/m.py"), loc, Layout::Sourceless, "cpython-312", {0});
  EXPECT_EQ(p.embedded_path, "/opt/app/m.py");
  EXPECT_EQ(p.outputs[0].path, "/stage/opt/app/m.pyc");
}

TEST(Plan, EmbedPrefixWins) {
  LocationOptions given;
  given.source_root = "/ws";
  given.embed_prefix = "external/lib";
  const auto loc = resolve_locations(given, Layout::Pycache);
  EXPECT_EQ(plan_source(source("/ws/a/b.py"), loc, Layout::Pycache, "cpython-312", {0}).embedded_path,
            "external/lib/a/b.py");
}

TEST(Plan, EmbeddedPathsChosenPerSourceWinForThoseSources) {
  LocationOptions given;
  given.source_root = "/";
  given.embed_prefix = "/ignored";
  given.embedded_paths = std::make_shared<std::map<std::string, std::string>>(
      std::map<std::string, std::string>{{"/stage/usr/lib/a.py", "usr/lib/a.py"}, {"/tmp/b.py", "../b.py"}});
  const auto loc = resolve_locations(given, Layout::Pycache);
  const auto a = plan_source(source("/stage/usr/lib/a.py"), loc, Layout::Pycache, "cpython-313", {0});
  EXPECT_EQ(a.embedded_path, "usr/lib/a.py");
  EXPECT_EQ(a.outputs[0].path, "/stage/usr/lib/__pycache__/a.cpython-313.pyc");  // written in place all the same
  EXPECT_EQ(plan_source(source("/tmp/b.py"), loc, Layout::Pycache, "cpython-313", {0}).embedded_path, "../b.py");
  EXPECT_EQ(plan_source(source("/tmp/c.py"), loc, Layout::Pycache, "cpython-313", {0}).embedded_path,
            "/ignored/tmp/c.py");  // not in the map: the prefix rule
}

TEST(Plan, OutputRootWithPrefixMirrorsThePrefixTree) {
  LocationOptions given;
  given.source_root = "/ws/src";
  given.install_root = "/opt/app";
  given.output_root = "/ws/build/prefix";
  given.pycache_prefix = "/var/cache/pyc";
  const auto loc = resolve_locations(given, Layout::Prefix);
  const auto p = plan_source(source("/ws/src/m.py"), loc, Layout::Prefix, "cpython-39", {0});
  EXPECT_EQ(p.outputs[0].path, "/ws/build/prefix/opt/app/m.cpython-39.pyc");
}

TEST(Plan, Errors) {
  LocationOptions given;
  given.source_root = "/src";
  EXPECT_THROW(resolve_locations(given, Layout::Prefix), PlanError);  // no prefix
  given.pycache_prefix = "relative/dir";
  EXPECT_THROW(resolve_locations(given, Layout::Prefix), PlanError);
  given.pycache_prefix = "/cache";
  EXPECT_THROW(resolve_locations(given, Layout::Pycache), PlanError);  // prefix without prefix layout
  given.pycache_prefix.reset();
  given.install_root = "usr/lib";
  EXPECT_THROW(resolve_locations(given, Layout::Pycache), PlanError);
  given.install_root.reset();
  given.staging_root = "/stage";
  EXPECT_THROW(resolve_locations(given, Layout::Pycache), PlanError);  // source root outside the staging root
  given.staging_root.reset();
  const auto loc = resolve_locations(given, Layout::Pycache);
  EXPECT_THROW(plan_source(source("/elsewhere/m.py"), loc, Layout::Pycache, "cpython-312", {0}), PlanError);
  EXPECT_THROW(plan_source(source("/srcfoo/m.py"), loc, Layout::Pycache, "cpython-312", {0}), PlanError);
}

}  // namespace
}  // namespace pycemit
