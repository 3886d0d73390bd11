// The orchestrator's rules (compile_run.h), run in milliseconds without an
// interpreter: a compiler that answers with canned marshal bytes, real files in
// a temporary tree, and a file system that fails where a test says.
#include "pycemit/compile_run.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>

#include "canned_code.h"
#include "pycemit/file_io.h"
#include "pycemit/little_endian.h"
#include "pycemit/manifest.h"
#include "test_tree.h"

namespace pycemit {
namespace {

using testing::code_for;
using testing::cpython312;
using testing::from_hex;
using testing::kModuleHex;
using testing::TempTree;

// Answers every request at once, in submission order; by default with the
// canned code object compiled for the request's embedded path.
class FakeCompiler : public Compiler {
 public:
  std::function<CompileReply(const CompileRequest&)> answer = [](const CompileRequest& r) {
    CompileReply reply;
    // A Verify request holds when the canonical body is the canonical form of
    // what was compiled: its code loads equal, as the real interpreter finds.
    if (r.kind == CompileRequest::Kind::Verify) {
      reply.code = std::string();
      if (marshal::canonicalize(r.source, marshal::CodeLayout::Py311) != r.canonical) {
        reply.code.reset();
        reply.failure = {CompileFailure::kVerifyMismatch, "object.co_consts[0]: int vs str", std::nullopt,
                         std::nullopt};
      }
      return reply;
    }
    reply.code = code_for(r.embedded_path);
    return reply;
  };
  std::function<void(const CompileRequest&)> on_submit = [](const CompileRequest&) {};
  std::vector<CompileRequest> submitted;
  bool cancelled = false;

  void submit(CompileRequest request) override {
    on_submit(request);
    CompileReply reply = answer(request);
    reply.id = request.id;
    replies_.push_back(std::move(reply));
    submitted.push_back(std::move(request));
  }
  CompileReply next_reply() override {
    if (replies_.empty()) throw std::logic_error("next_reply() with nothing outstanding");
    CompileReply reply = std::move(replies_.front());
    replies_.pop_front();
    return reply;
  }
  std::size_t outstanding() const override { return replies_.size(); }
  void cancel() override {
    cancelled = true;
    replies_.clear();
  }
  int max_processes() const override { return 1; }
  int processes_started() const override { return 0; }

 private:
  std::deque<CompileReply> replies_;
};

CompileReply rejected(const std::string& type, const std::string& message) {
  CompileReply reply;
  reply.failure = {type, message, 1, 5};
  return reply;
}

// The real file system, but for the directories and files a test marks.
class FaultyFileSystem : public RealFileSystem {
 public:
  std::set<std::string> unmakeable_directories;
  std::set<std::string> unwritable_files;
  std::map<std::string, int> make_calls;

  void make_directories(const std::string& path) override {
    ++make_calls[path];
    if (unmakeable_directories.count(path)) throw FileError(path + ": cannot create directory: Permission denied");
    RealFileSystem::make_directories(path);
  }
  void write_file_atomically(const std::string& path, std::string_view bytes, mode_t mode) override {
    if (unwritable_files.count(path)) throw FileError(path + ": cannot write: No space left on device");
    RealFileSystem::write_file_atomically(path, bytes, mode);
  }
};

class Captured : public Reporter {
 public:
  Captured() : Reporter(Verbosity::Verbose, false) {}
  std::string err, out;

 protected:
  void to_stderr(const std::string& t) override { err += t; }
  void to_stdout(const std::string& t) override { out += t; }
};

class CompileRunTest : public ::testing::Test {
 protected:
  CompileRunTest() {
    options.paths = {tree.path()};
    options.locations.source_root = tree.path();
    options.stat_cache = false;
  }

  // One run with a fresh compiler and reporter, as one `pycemit compile`.
  int run() {
    compiler = FakeCompiler();
    compiler.answer = answer;
    compiler.on_submit = on_submit;
    reporter = std::make_unique<Captured>();
    return CompileRun(options, info, compiler, fs, *reporter).run(&stats);
  }

  std::string pyc(const std::string& stem, int level = 0) const {
    return tree /
           ("pkg/__pycache__/" + stem + ".cpython-312" + (level ? ".opt-" + std::to_string(level) : "") + ".pyc");
  }
  std::optional<std::string> contents(const std::string& path) const { return read_output_file(path); }

  TempTree tree;
  CompileOptions options;
  InterpreterInfo info = cpython312();
  FakeCompiler compiler;
  std::function<CompileReply(const CompileRequest&)> answer = FakeCompiler().answer;
  std::function<void(const CompileRequest&)> on_submit = [](const CompileRequest&) {};
  FaultyFileSystem fs;
  std::unique_ptr<Captured> reporter;
  CompileStats stats;
};

std::uint64_t hash_field(const std::string& pyc) { return read_le<std::uint64_t>(pyc, 8); }

TEST_F(CompileRunTest, WritesEveryLevelWithItsHeaderAndCanonicalBodyThenLeavesThemAlone) {
  const std::string source = tree.write("pkg/mod.py", "x = 1\n");
  ::chmod(source.c_str(), 0444);
  options.levels = {0, 1};

  ASSERT_EQ(run(), kExitOk) << reporter->err;
  ASSERT_EQ(compiler.submitted.size(), 2u);
  for (const auto& request : compiler.submitted) {
    EXPECT_EQ(request.embedded_path, "pkg/mod.py");
    EXPECT_EQ(request.source, "x = 1\n");
  }
  EXPECT_EQ(compiler.submitted[0].optimize, 0);
  EXPECT_EQ(compiler.submitted[1].optimize, 1);
  EXPECT_EQ(stats.written, 2u);
  for (int level : {0, 1}) {
    const auto data = contents(pyc("mod", level));
    ASSERT_TRUE(data);
    EXPECT_EQ(data->substr(0, 8), std::string("\xcb\x0d\x0d\x0a\x03\x00\x00\x00", 8));  // magic, checked-hash
    EXPECT_EQ(hash_field(*data), 0x08dff51719562215u);  // 3.12's source hash of "x = 1\n", little-endian
    EXPECT_EQ(data->substr(16), marshal::canonicalize(from_hex(kModuleHex), marshal::CodeLayout::Py311));
    EXPECT_NE(data->substr(16), from_hex(kModuleHex));               // CPython's FLAG_REF bits are not canonical
    EXPECT_EQ(stat_path(pyc("mod", level))->st_mode & 0777, 0644u);  // (0444 | 0200) & 0666
  }
  const auto mtime = stat_path(pyc("mod"))->st_mtim;

  ASSERT_EQ(run(), kExitOk);
  EXPECT_TRUE(compiler.submitted.empty());
  EXPECT_EQ(stats.written, 0u);
  EXPECT_EQ(stats.unchanged, 2u);
  EXPECT_EQ(stat_path(pyc("mod"))->st_mtim.tv_nsec, mtime.tv_nsec);
  EXPECT_NE(reporter->out.find("unchanged " + pyc("mod")), std::string::npos);
}

TEST_F(CompileRunTest, ARejectedSourceFailsTheRunAndTheOthersAreWritten) {
  tree.write("pkg/bad.py", "x = = 1\n");
  tree.write("pkg/mod.py", "x = 1\n");
  answer = [](const CompileRequest& r) {
    return r.embedded_path == "pkg/bad.py" ? rejected("SyntaxError", "invalid syntax") : FakeCompiler().answer(r);
  };

  EXPECT_EQ(run(), kExitFailures);
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_EQ(stats.written, 1u);
  EXPECT_NE(reporter->err.find(tree / "pkg/bad.py" + ":1:5: SyntaxError: invalid syntax"), std::string::npos);
  EXPECT_FALSE(contents(pyc("bad")));
  EXPECT_TRUE(contents(pyc("mod")));
}

TEST_F(CompileRunTest, OnErrorWarnAndSkipExcuseOnlySourcesTheCompilerRejected) {
  tree.write("pkg/bad.py", "print 'py2'\n");
  std::string failure_type = "SyntaxError";
  answer = [&](const CompileRequest&) { return rejected(failure_type, "Missing parentheses"); };

  options.on_error = OnError::Warn;
  EXPECT_EQ(run(), kExitOk);
  EXPECT_EQ(stats.skipped, 1u);
  EXPECT_EQ(stats.failed, 0u);
  EXPECT_EQ(reporter->err.rfind("warning: " + tree / "pkg/bad.py" + ":1:5: SyntaxError", 0), 0u) << reporter->err;

  options.on_error = OnError::Skip;
  EXPECT_EQ(run(), kExitOk);
  EXPECT_EQ(reporter->err.rfind("skipped: " + tree / "pkg/bad.py", 0), 0u) << reporter->err;

  for (const char* type : {CompileFailure::kInterpreterDied, CompileFailure::kTimeout}) {
    failure_type = type;
    EXPECT_EQ(run(), kExitFailures) << type;
    EXPECT_EQ(stats.failed, 1u);
    EXPECT_EQ(stats.skipped, 0u);
  }
}

TEST_F(CompileRunTest, VerificationFollowsTheFormatUnlessTheOptionSaysOtherwise) {
  tree.write("pkg/mod.py", "x = 1\n");
  options.levels = {0, 1};
  auto verifies = [this] {
    std::size_t n = 0;
    for (const auto& request : compiler.submitted) {
      if (request.kind != CompileRequest::Kind::Verify) continue;
      ++n;
      EXPECT_EQ(request.source, code_for("pkg/mod.py"));  // what the interpreter compiled
      EXPECT_EQ(request.canonical, marshal::canonicalize(request.source, marshal::CodeLayout::Py311));
    }
    return n;
  };
  options.force = true;

  ASSERT_EQ(run(), kExitOk) << reporter->err;  // a known release: no verification
  EXPECT_EQ(verifies(), 0u);
  EXPECT_EQ(stats.verified, 0u);

  info.known_format = false;  // a format that passed only the probe
  info.format_note = "a version this pycemit does not know";
  ASSERT_EQ(run(), kExitOk) << reporter->err;
  EXPECT_EQ(verifies(), 2u);
  EXPECT_EQ(stats.verified, 2u);
  EXPECT_EQ(stats.written, 2u);
  EXPECT_EQ(reporter->err.find("pycemit: warning: CPython 3.12.1 (magic number 3531, marshal version 4) is a "
                               "version this pycemit does not know"),
            0u)
      << reporter->err;

  options.verify = false;
  ASSERT_EQ(run(), kExitOk);
  EXPECT_EQ(verifies(), 0u);
  info.known_format = true;
  options.verify = true;
  ASSERT_EQ(run(), kExitOk);
  EXPECT_EQ(verifies(), 2u);
}

TEST_F(CompileRunTest, ABodyThatLoadsDifferentlyIsNeverWrittenAndNotExcused) {
  const std::string source = tree.write("pkg/mod.py", "x = 1\n");
  ASSERT_EQ(run(), kExitOk);
  const auto good = contents(pyc("mod"));
  ASSERT_TRUE(good);
  tree.write("pkg/mod.py", "x = 2\n");  // stale now: it must be compiled again
  options.verify = true;
  options.on_error = OnError::Skip;
  answer = [](const CompileRequest& r) {
    CompileReply reply;
    if (r.kind == CompileRequest::Kind::Verify) {
      reply.failure = {CompileFailure::kVerifyMismatch, "object.co_consts[0]: int vs str", std::nullopt, std::nullopt};
    } else {
      reply.code = code_for(r.embedded_path);
    }
    return reply;
  };

  EXPECT_EQ(run(), kExitFailures);
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_EQ(stats.written, 0u);
  EXPECT_NE(reporter->err.find(source + ": VerifyMismatch: the interpreter loads the canonical pyc differently "
                                        "from what it compiled: object.co_consts[0]: int vs str"),
            std::string::npos)
      << reporter->err;
  EXPECT_EQ(contents(pyc("mod")), good) << "the good old pyc must survive";
}

TEST_F(CompileRunTest, FailFastStopsAtTheFirstFailureAndCancelsTheRest) {
  tree.write("pkg/big.py", "x = 1  # the largest source is submitted first\n");
  for (int i = 0; i < 9; ++i) tree.write("pkg/m" + std::to_string(i) + ".py", "x = 1\n");
  answer = [](const CompileRequest& r) {
    return r.embedded_path == "pkg/big.py" ? rejected("SyntaxError", "invalid syntax") : FakeCompiler().answer(r);
  };
  options.fail_fast = true;

  EXPECT_EQ(run(), kExitFailures);
  EXPECT_TRUE(compiler.cancelled);
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_EQ(stats.written, 0u);
  EXPECT_LT(compiler.submitted.size(), 10u);  // the window was full, not every source submitted
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(contents(pyc("m" + std::to_string(i))));
}

TEST_F(CompileRunTest, PlaceholdersFillOnlyTheMissingOutputsOfASkippedSource) {
  tree.write("pkg/mod.py", "print 'py2'\n");
  tree.write("pkg/__pycache__/mod.cpython-312.opt-1.pyc", "left by someone");
  answer = [](const CompileRequest&) { return rejected("SyntaxError", "Missing parentheses"); };
  options.levels = {0, 1};
  options.on_error = OnError::Skip;

  EXPECT_EQ(run(), kExitOk);
  EXPECT_FALSE(contents(pyc("mod")));  // without --placeholder-for-skipped

  options.placeholder_for_skipped = true;
  EXPECT_EQ(run(), kExitOk);
  EXPECT_EQ(contents(pyc("mod")), "");
  EXPECT_EQ(contents(pyc("mod", 1)), "left by someone");
  EXPECT_NE(reporter->out.find("placeholder " + pyc("mod")), std::string::npos);
  EXPECT_EQ(reporter->out.find("placeholder " + pyc("mod", 1)), std::string::npos);

  options.on_error = OnError::Fail;  // a failing source gets none
  ::unlink(pyc("mod").c_str());
  EXPECT_EQ(run(), kExitFailures);
  EXPECT_FALSE(contents(pyc("mod")));
}

TEST_F(CompileRunTest, HardlinkDupesLinksIdenticalLevelsAndRelinksCopiesWithoutCompiling) {
  tree.write("pkg/mod.py", "x = 1\n");
  options.levels = {0, 1, 2};
  ASSERT_EQ(run(), kExitOk);
  EXPECT_NE(stat_path(pyc("mod"))->st_ino, stat_path(pyc("mod", 1))->st_ino);

  options.hardlink_dupes = true;
  ASSERT_EQ(run(), kExitOk) << reporter->err;
  EXPECT_TRUE(compiler.submitted.empty());  // all current: linked without an interpreter
  EXPECT_EQ(stat_path(pyc("mod"))->st_ino, stat_path(pyc("mod", 1))->st_ino);
  EXPECT_EQ(stat_path(pyc("mod"))->st_ino, stat_path(pyc("mod", 2))->st_ino);
  EXPECT_NE(reporter->out.find("linked " + pyc("mod", 2)), std::string::npos);
  EXPECT_EQ(stats.written, 2u);  // two links made
  EXPECT_EQ(stats.unchanged, 1u);

  ASSERT_EQ(run(), kExitOk);
  EXPECT_EQ(stats.unchanged, 3u);  // already linked
  EXPECT_EQ(reporter->out.find("linked "), std::string::npos);

  tree.write("pkg/mod.py", "x = 1  # edited\n");  // stale: every level compiled, then linked
  ASSERT_EQ(run(), kExitOk);
  EXPECT_EQ(compiler.submitted.size(), 3u);
  EXPECT_EQ(stat_path(pyc("mod"))->st_ino, stat_path(pyc("mod", 2))->st_ino);
  EXPECT_NE(reporter->out.find("wrote " + pyc("mod")), std::string::npos);
}

TEST_F(CompileRunTest, TheStatCacheRecordsWrittenOutputsAndKeepsUnchangedOnes) {
  TempTree cache_dir;
  const char* old = std::getenv("PYCEMIT_CACHE_DIR");
  const std::string saved = old ? old : "";
  ::setenv("PYCEMIT_CACHE_DIR", cache_dir.path().c_str(), 1);
  const std::string source = tree.write("pkg/mod.py", "x = 1\n");
  std::this_thread::sleep_for(std::chrono::nanoseconds(StatCache::kRacyWindowNs) + std::chrono::milliseconds(20));
  options.stat_cache = true;
  const auto cached = [&] {
    StatCache cache(stat_cache_context(options, resolve_locations(options.locations, options.layout), info));
    cache.load();
    return cache.unchanged(source, {pyc("mod")});
  };

  EXPECT_FALSE(cached());
  ASSERT_EQ(run(), kExitOk);
  EXPECT_TRUE(cached());  // recorded after the write
  ASSERT_EQ(run(), kExitOk);
  EXPECT_EQ(stats.unchanged, 1u);
  EXPECT_TRUE(cached());  // kept

  tree.write("pkg/mod.py", "x = 2\n");
  ASSERT_EQ(run(), kExitOk);
  EXPECT_EQ(compiler.submitted.size(), 1u);  // the cache did not hide the edit
  EXPECT_FALSE(cached());                    // the source is racy now: not recorded

  if (old) {
    ::setenv("PYCEMIT_CACHE_DIR", saved.c_str(), 1);
  } else {
    ::unsetenv("PYCEMIT_CACHE_DIR");
  }
}

TEST_F(CompileRunTest, ASourceEditedAfterItsScanIsCompiledAndHashedAsReadAgain) {
  tree.write("pkg/big.py", "x = 1  # larger: submitted first\n");
  const std::string small = tree.write("pkg/small.py", "x = 1\n");
  on_submit = [&](const CompileRequest& r) {
    if (r.embedded_path == "pkg/big.py") tree.write("pkg/small.py", "print(\"hello, world\")\n");
  };

  ASSERT_EQ(run(), kExitOk) << reporter->err;
  ASSERT_EQ(compiler.submitted.size(), 2u);
  EXPECT_EQ(compiler.submitted[1].embedded_path, "pkg/small.py");
  EXPECT_EQ(compiler.submitted[1].source, "print(\"hello, world\")\n");
  EXPECT_EQ(hash_field(*contents(pyc("small"))), 0x9b387c818781d427u);  // 3.12's hash of the new bytes
}

TEST_F(CompileRunTest, AReplyWhoseCodeObjectIsForAnotherFileIsNotWritten) {
  tree.write("pkg/mod.py", "x = 1\n");
  answer = [](const CompileRequest&) {
    CompileReply reply;
    reply.code = code_for("pkg/other.py");
    return reply;
  };

  EXPECT_EQ(run(), kExitFailures);
  EXPECT_NE(reporter->err.find("the interpreter's reply is not usable: the code object is not the one compiled"),
            std::string::npos)
      << reporter->err;
  EXPECT_FALSE(contents(pyc("mod")));
}

TEST_F(CompileRunTest, WarningsRepeatedByEachLevelAreReportedOnce) {
  tree.write("pkg/mod.py", "x = 1\n");
  options.levels = {0, 1, 2};
  answer = [](const CompileRequest& r) {
    CompileReply reply = FakeCompiler().answer(r);
    reply.warnings.push_back({"SyntaxWarning", 1, "\"is\" with a literal"});
    return reply;
  };
  ASSERT_EQ(run(), kExitOk);
  const std::string line = tree / "pkg/mod.py" + ":1: SyntaxWarning: \"is\" with a literal\n";
  ASSERT_NE(reporter->err.find(line), std::string::npos) << reporter->err;
  EXPECT_EQ(reporter->err.find(line, reporter->err.find(line) + 1), std::string::npos);
}

TEST_F(CompileRunTest, ADirectoryThatCannotBeMadeFailsEveryOutputInItAndIsTriedOnce) {
  tree.write("pkg/a.py", "x = 1\n");
  tree.write("pkg/b.py", "x = 1\n");
  tree.write("other/c.py", "x = 1\n");
  fs.unmakeable_directories = {tree / "pkg/__pycache__"};

  EXPECT_EQ(run(), kExitFailures);
  EXPECT_EQ(stats.failed, 2u);
  EXPECT_EQ(stats.written, 1u);
  EXPECT_EQ(fs.make_calls[tree / "pkg/__pycache__"], 1);
  const std::string message = tree / "pkg/__pycache__" + ": cannot create directory: Permission denied\n";
  const auto first = reporter->err.find(message);
  ASSERT_NE(first, std::string::npos) << reporter->err;
  EXPECT_NE(reporter->err.find(message, first + 1), std::string::npos);
  EXPECT_TRUE(contents(tree / "other/__pycache__/c.cpython-312.pyc"));
}

TEST_F(CompileRunTest, AFailedWriteLeavesTheOldFileAndIsNotRemembered) {
  tree.write("pkg/mod.py", "x = 1\n");
  tree.write("pkg/__pycache__/mod.cpython-312.pyc", "stale");
  fs.unwritable_files = {pyc("mod")};

  EXPECT_EQ(run(), kExitFailures);
  EXPECT_NE(reporter->err.find(pyc("mod") + ": cannot write: No space left on device"), std::string::npos);
  EXPECT_EQ(contents(pyc("mod")), "stale");

  fs.unwritable_files.clear();
  EXPECT_EQ(run(), kExitOk);  // tried again, and written
  EXPECT_EQ(stats.written, 1u);
}

TEST_F(CompileRunTest, AnOutputThatIsASymlinkIsRefusedAndItsTargetUntouched) {
  tree.write("pkg/mod.py", "x = 1\n");
  const std::string target = tree.write("elsewhere/target", "not a pyc");
  tree.mkdir("pkg/__pycache__");
  ASSERT_EQ(::symlink(target.c_str(), pyc("mod").c_str()), 0);

  EXPECT_EQ(run(), kExitFailures);
  EXPECT_NE(reporter->err.find(pyc("mod")), std::string::npos);
  EXPECT_EQ(read_file(target), "not a pyc");
  EXPECT_TRUE(lstat_path(pyc("mod")) && S_ISLNK(lstat_path(pyc("mod"))->st_mode));
}

TEST_F(CompileRunTest, TheManifestListsEveryOutputWithWhatTheRunDidAndEverySkippedSource) {
  tree.write("pkg/mod.py", "x = 1\n");
  tree.write("pkg/old.py", "print 'py2'\n");
  answer = [](const CompileRequest& r) {
    return r.embedded_path == "pkg/old.py" ? rejected("SyntaxError", "Missing parentheses") : FakeCompiler().answer(r);
  };
  options.levels = {0, 1};
  options.hardlink_dupes = true;
  options.on_error = OnError::Skip;
  const std::string manifest_path = tree / "out/manifest.json";
  options.manifest = manifest_path;
  tree.mkdir("out");
  const auto manifest = [&] { return nlohmann::json::parse(read_file(manifest_path)); };

  ASSERT_EQ(run(), kExitOk) << reporter->err;
  nlohmann::json doc = manifest();
  ASSERT_EQ(doc["outputs"].size(), 2u);  // sorted by path: ".opt-1.pyc" before ".pyc"
  EXPECT_EQ(doc["outputs"][0]["path"], pyc("mod", 1));
  EXPECT_EQ(doc["outputs"][0]["status"], "linked");
  EXPECT_EQ(doc["outputs"][0]["optimization_level"], 1);
  EXPECT_EQ(doc["outputs"][1]["path"], pyc("mod"));
  EXPECT_EQ(doc["outputs"][1]["status"], "written");
  EXPECT_EQ(doc["outputs"][1]["cache_tag"], "cpython-312");
  EXPECT_EQ(doc["outputs"][1]["size"], read_file(pyc("mod")).size());
  EXPECT_EQ(doc["outputs"][1]["sha256"], sha256_hex(read_file(pyc("mod"))));
  ASSERT_EQ(doc["skipped"].size(), 1u);
  EXPECT_EQ(doc["skipped"][0]["source"], tree / "pkg/old.py");

  ASSERT_EQ(run(), kExitOk);  // nothing to do: still every output, read back from disk
  doc = manifest();
  ASSERT_EQ(doc["outputs"].size(), 2u);
  EXPECT_EQ(doc["outputs"][0]["status"], "unchanged");
  EXPECT_EQ(doc["outputs"][1]["status"], "unchanged");
  EXPECT_EQ(doc["outputs"][0]["sha256"], sha256_hex(read_file(pyc("mod", 1))));
}

TEST_F(CompileRunTest, AnotherCacheTagThanExpectedIsRefusedBeforeAnythingIsCompiled) {
  tree.write("pkg/mod.py", "x = 1\n");
  options.expect_cache_tag = "cpython-313";
  EXPECT_THROW(run(), InterpreterError);
  EXPECT_TRUE(compiler.submitted.empty());
  EXPECT_FALSE(contents(pyc("mod")));
}

// The compile cache (compile_cache.h) in the orchestrator: a second tree at
// another path is served from the first tree's entries without a compile; one
// entry serves every invalidation mode; a bad entry is compiled again.
class CompileRunCacheTest : public CompileRunTest {
 protected:
  CompileRunCacheTest() { options.cache.directory = cache_tree / "cache"; }

  // Points the run at `other` instead of `tree`.
  void use_tree(const TempTree& other) {
    options.paths = {other.path()};
    options.locations.source_root = other.path();
  }
  std::vector<std::string> entry_files() const {
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(*options.cache.directory + "/v1")) {
      if (e.is_regular_file()) files.push_back(e.path().string());
    }
    return files;
  }

  TempTree cache_tree;
  TempTree other;
};

TEST_F(CompileRunCacheTest, ASecondTreeIsServedFromTheCacheWithoutCompiling) {
  tree.write("pkg/mod.py", "x = 1\n");
  other.write("pkg/mod.py", "x = 1\n");
  options.levels = {0, 1};
  ASSERT_EQ(run(), kExitOk) << reporter->err;
  EXPECT_EQ(compiler.submitted.size(), 2u);
  EXPECT_EQ(stats.cache_lookups, 2u);
  EXPECT_EQ(stats.cache_misses, 2u);
  EXPECT_EQ(stats.cache_stores, 2u);
  EXPECT_EQ(entry_files().size(), 2u);

  use_tree(other);
  ASSERT_EQ(run(), kExitOk) << reporter->err;
  EXPECT_TRUE(compiler.submitted.empty());
  EXPECT_EQ(stats.cache_hits, 2u);
  EXPECT_EQ(stats.cache_misses, 0u);
  EXPECT_EQ(stats.cache_stores, 0u);
  EXPECT_EQ(stats.written, 2u);
  for (int level : {0, 1})
    EXPECT_EQ(contents(other / ("pkg/__pycache__/mod.cpython-312" + std::string(level ? ".opt-1" : "") + ".pyc")),
              contents(pyc("mod", level)));
}

TEST_F(CompileRunCacheTest, OneEntryServesEveryInvalidationMode) {
  tree.write("pkg/mod.py", "x = 1\n");
  other.write("pkg/mod.py", "x = 1\n");
  ASSERT_EQ(run(), kExitOk) << reporter->err;  // checked-hash
  use_tree(other);
  options.mode = InvalidationMode::Timestamp;
  ASSERT_EQ(run(), kExitOk) << reporter->err;
  EXPECT_TRUE(compiler.submitted.empty());
  const auto checked = contents(pyc("mod"));
  const auto timestamp = contents(other / "pkg/__pycache__/mod.cpython-312.pyc");
  ASSERT_TRUE(checked && timestamp);
  EXPECT_EQ(read_le<std::uint32_t>(*timestamp, 4), 0u);   // flags: timestamp
  EXPECT_EQ(read_le<std::uint32_t>(*timestamp, 12), 6u);  // the source's size
  EXPECT_EQ(timestamp->substr(16), checked->substr(16));
}

TEST_F(CompileRunCacheTest, AnEmbeddedPathOrSourceOfItsOwnIsAMiss) {
  tree.write("pkg/mod.py", "x = 1\n");
  other.write("pkg/mod.py", "x = 2\n");
  ASSERT_EQ(run(), kExitOk) << reporter->err;
  use_tree(other);
  ASSERT_EQ(run(), kExitOk) << reporter->err;
  EXPECT_EQ(compiler.submitted.size(), 1u);  // other source bytes
  options.locations.embed_prefix = "/usr/lib/python3.12";
  options.force = true;
  other.write("pkg/mod.py", "x = 1\n");
  ASSERT_EQ(run(), kExitOk) << reporter->err;
  EXPECT_EQ(compiler.submitted.size(), 1u);  // another co_filename
  EXPECT_EQ(stats.cache_hits, 0u);
}

TEST_F(CompileRunCacheTest, ABadEntryIsDroppedAndTheSourceCompiled) {
  tree.write("pkg/mod.py", "x = 1\n");
  other.write("pkg/mod.py", "x = 1\n");
  ASSERT_EQ(run(), kExitOk) << reporter->err;
  const std::vector<std::string> entries = entry_files();
  ASSERT_EQ(entries.size(), 1u);
  const std::string good = read_file(entries[0]);
  write_file_atomically(entries[0], good.substr(0, good.size() / 2), 0644);  // truncated

  use_tree(other);
  ASSERT_EQ(run(), kExitOk) << reporter->err;
  EXPECT_EQ(compiler.submitted.size(), 1u);
  EXPECT_EQ(stats.cache_dropped, 1u);
  EXPECT_EQ(stats.cache_stores, 1u);
  EXPECT_EQ(read_file(entries[0]), good);  // stored again, whole
  EXPECT_EQ(contents(other / "pkg/__pycache__/mod.cpython-312.pyc"), contents(pyc("mod")));

  // An entry that is a good code object, but for another file, is bad too.
  write_file_atomically(entries[0], marshal::canonicalize(code_for("pkg/evil.py"), marshal::CodeLayout::Py311), 0644);
  options.force = true;
  ASSERT_EQ(run(), kExitOk) << reporter->err;
  EXPECT_EQ(stats.cache_dropped, 1u);
  EXPECT_EQ(contents(other / "pkg/__pycache__/mod.cpython-312.pyc"), contents(pyc("mod")));
}

TEST_F(CompileRunCacheTest, AnUnsafeCacheDirectoryIsRefusedBeforeAnythingIsWritten) {
  tree.write("pkg/mod.py", "x = 1\n");
  const std::string dir = cache_tree.mkdir("shared");
  ::chmod(dir.c_str(), 0777);
  options.cache.directory = dir;
  EXPECT_THROW(run(), PlanError);
  EXPECT_TRUE(compiler.submitted.empty());
  EXPECT_FALSE(contents(pyc("mod")));
}

}  // namespace
}  // namespace pycemit
