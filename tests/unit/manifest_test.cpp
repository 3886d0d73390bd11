#include "pycemit/manifest.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pycemit/file_io.h"
#include "test_tree.h"

namespace pycemit {
namespace {

TEST(Manifest, DigestsInHexAndRecordForm) {
  // SHA-256 of the empty string, and its RECORD form (urlsafe base64, no padding).
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(record_hash(""), "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
  EXPECT_EQ(record_hash("abc"), "sha256=ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
}

OutputRecord output(const std::string& path, const std::string& data) {
  OutputRecord r;
  r.source = "m.py";
  r.path = path;
  r.runtime_path = path;
  r.cache_tag = "cpython-312";
  r.size = data.size();
  r.sha256 = sha256_hex(data);
  r.status = "written";
  return r;
}

TEST(Manifest, WritesSortedJson) {
  testing::TempTree t;
  write_manifest(t / "out/manifest.json", {output("/b.pyc", "b"), output("/a.pyc", "a")},
                 {{"py2.py", "py2.py:1:7: SyntaxError: Missing parentheses"}});
  const auto doc = nlohmann::json::parse(read_file(t / "out/manifest.json"));
  EXPECT_EQ(doc["pycemit_manifest"], 1);
  ASSERT_EQ(doc["outputs"].size(), 2u);
  EXPECT_EQ(doc["outputs"][0]["path"], "/a.pyc");
  EXPECT_EQ(doc["outputs"][0]["optimization_level"], 0);
  EXPECT_EQ(doc["outputs"][0]["invalidation_mode"], "checked-hash");
  EXPECT_EQ(doc["outputs"][0]["sha256"], sha256_hex("a"));
  EXPECT_EQ(doc["skipped"][0]["source"], "py2.py");
  EXPECT_EQ(read_manifest_outputs(t / "out/manifest.json"), (std::vector<std::string>{"/a.pyc", "/b.pyc"}));
  t.write("other.json", "{\"outputs\": []}");
  EXPECT_THROW(read_manifest_outputs(t / "other.json"), std::runtime_error);
  t.write("junk.json", "not json");
  EXPECT_THROW(read_manifest_outputs(t / "junk.json"), std::runtime_error);
}

TEST(Manifest, RecordLinesAreUpdatedInPlaceAndAddedBeforeRecordItself) {
  testing::TempTree t;
  const std::string record = t.write("site/pkg-1.0.dist-info/RECORD",
                                     "pkg/__init__.py,sha256=x,1\n"
                                     "pkg/__pycache__/__init__.cpython-312.pyc,sha256=old,3\n"
                                     "pkg-1.0.dist-info/RECORD,,\n");
  const std::string pyc0 = t.write("site/pkg/__pycache__/__init__.cpython-312.pyc", "new bytes");
  const std::string pyc1 = t.write("site/pkg/__pycache__/a,b.cpython-312.pyc", "comma");
  const std::string outside = t.write("bin/tool.pyc", "out");
  update_record(record, {output(pyc0, "new bytes"), output(pyc1, "comma"), output(outside, "out")});
  EXPECT_EQ(read_file(record),
            "pkg/__init__.py,sha256=x,1\n"
            "pkg/__pycache__/__init__.cpython-312.pyc," +
                record_hash("new bytes") +
                ",9\n"
                "\"pkg/__pycache__/a,b.cpython-312.pyc\"," +
                record_hash("comma") +
                ",5\n"
                "../bin/tool.pyc," +
                record_hash("out") +
                ",3\n"
                "pkg-1.0.dist-info/RECORD,,\n");
  // Again: nothing is duplicated.
  const std::string before = read_file(record);
  update_record(record, {output(pyc0, "new bytes"), output(pyc1, "comma")});
  EXPECT_EQ(read_file(record), before);
  EXPECT_THROW(update_record(t / "missing/RECORD", {}), FileError);
}

}  // namespace
}  // namespace pycemit
