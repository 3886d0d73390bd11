// The interpreter pool against real interpreters (suite InterpreterPoolInterpreters),
// against real ones made to die, hang or write junk, and against programs that
// are not Python at all (suite InterpreterPool, no interpreter needed).
#include "pycemit/interpreter_pool.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>

#include "pycemit/interpreter_process.h"
#include "test_interpreters.h"
#include "test_tree.h"

namespace pycemit {
namespace {

using namespace std::chrono_literals;

CompileRequest request(std::uint64_t id, const std::string& source, int level = 0) {
  CompileRequest r;
  r.id = id;
  r.optimize = level;
  r.embedded_path = "pkg/m.py";
  r.source = source;
  return r;
}

std::string script(const testing::TempTree& t, const std::string& name, const std::string& body) {
  const std::string path = t.write(name, body);
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST(InterpreterPoolInterpreters, HandshakeReportsEveryInterpreter) {
  for (const auto& python : testing::installed_cpythons()) {
    InterpreterPool pool(python, 1, 60s);
    const InterpreterInfo& info = pool.handshake();
    EXPECT_EQ(info.implementation, "cpython");
    EXPECT_EQ(info.executable, python);
    EXPECT_EQ(info.magic_number(), known_format("cpython", info.minor)->magic_number) << python;
    EXPECT_TRUE(info.known_format) << python << ": " << info.format_note;
    EXPECT_EQ(pool.processes_started(), 1);
  }
}

TEST(InterpreterPoolInterpreters, CompilesAndReportsErrorsAndWarnings) {
  const std::string python = testing::installed_cpythons().back();
  InterpreterPool pool(python, 2, 60s);
  pool.submit(request(1, "x = 1\n"));
  pool.submit(request(2, "def f(:\n  pass\n"));
  pool.submit(request(3, "x = 1 is 1\n"));
  pool.submit(request(4, "assert x\n", 1));
  std::map<std::uint64_t, CompileReply> replies;
  while (pool.outstanding() > 0) {
    CompileReply r = pool.next_reply();
    replies[r.id] = r;
  }
  ASSERT_EQ(replies.size(), 4u);
  ASSERT_TRUE(replies[1].code);
  EXPECT_EQ((*replies[1].code)[0] & 0x7f, 'c');  // a marshalled code object
  EXPECT_FALSE(replies[2].code);
  EXPECT_EQ(replies[2].failure.type, "SyntaxError");
  EXPECT_EQ(replies[2].failure.line, 1);
  EXPECT_TRUE(replies[2].failure.column.has_value());
  ASSERT_TRUE(replies[3].code);
  ASSERT_EQ(replies[3].warnings.size(), 1u);
  EXPECT_EQ(replies[3].warnings[0].category, "SyntaxWarning");
  EXPECT_EQ(replies[3].warnings[0].line, 1);
  ASSERT_TRUE(replies[4].code);
  EXPECT_LE(pool.processes_started(), 2);
}

// A fake interpreter: the real one running the real bootstrap, patched so that
// compiling a source containing DIE, HANG or JUNK makes the interpreter exit, sleep
// forever, or write bytes that are not a frame.
std::string misbehaving_python(const testing::TempTree& t, const std::string& python) {
  return script(t, "misbehaving python", "#!" + python + " -S\n" + R"PY(import os, sys
args = sys.argv[1:]
hook = """
    global JUNK
    JUNK = b'JUNK' in source
    if b'DIE' in source: os._exit(9)
    if b'HANG' in source: __import__('time').sleep(3600)
"""
junk = """
    if kind == b'K' and globals().get('JUNK'):
        stream.write(b'garbage, not a frame' * 8); stream.flush(); return
"""
program = args[-1]
program = program.replace("def compile_one(request_id, optimize, path, source):\n",
                          "def compile_one(request_id, optimize, path, source):" + hook)
program = program.replace("def write_frame(stream, kind, fields):\n",
                          "def write_frame(stream, kind, fields):" + junk)
os.execv(sys.executable, [sys.executable] + args[:-1] + [program])
)PY");
}

std::map<std::uint64_t, CompileReply> drain(InterpreterPool& pool) {
  std::map<std::uint64_t, CompileReply> replies;
  while (pool.outstanding() > 0) {
    CompileReply r = pool.next_reply();
    replies[r.id] = r;
  }
  return replies;
}

TEST(InterpreterPoolInterpreters, AnInterpreterThatDiesIsReplacedAndOnlyItsFileFails) {
  testing::TempTree t;
  InterpreterPool pool(misbehaving_python(t, testing::installed_cpythons().back()), 1, 60s);
  pool.handshake();
  pool.submit(request(1, "x = 'DIE'\n"));
  pool.submit(request(2, "y = 2\n"));
  auto replies = drain(pool);
  ASSERT_FALSE(replies[1].code);
  EXPECT_EQ(replies[1].failure.type, "InterpreterDied");
  EXPECT_NE(replies[1].failure.message.find("exited with status 9"), std::string::npos) << replies[1].failure.message;
  EXPECT_TRUE(replies[2].code) << "the request waiting in the dead interpreter's pipe goes to a new interpreter";
  EXPECT_EQ(pool.processes_started(), 2);
}

TEST(InterpreterPoolInterpreters, AHangingFileTimesOutAndTheRestGoesOn) {
  testing::TempTree t;
  InterpreterPool pool(misbehaving_python(t, testing::installed_cpythons().back()), 1, 1500ms);
  pool.handshake();
  pool.submit(request(1, "x = 'HANG'\n"));
  pool.submit(request(2, "y = 2\n"));
  const auto started = std::chrono::steady_clock::now();
  auto replies = drain(pool);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
  ASSERT_FALSE(replies[1].code);
  EXPECT_EQ(replies[1].failure.type, "Timeout");
  EXPECT_NE(replies[1].failure.message.find("no answer within 1.5 s"), std::string::npos);
  EXPECT_TRUE(replies[2].code);
}

TEST(InterpreterPoolInterpreters, JunkOnTheProtocolChannelFailsThatFileOnly) {
  testing::TempTree t;
  InterpreterPool pool(misbehaving_python(t, testing::installed_cpythons().back()), 1, 60s);
  pool.handshake();
  pool.submit(request(1, "x = 'JUNK'\n"));
  pool.submit(request(2, "y = 2\n"));
  auto replies = drain(pool);
  ASSERT_FALSE(replies[1].code);
  EXPECT_EQ(replies[1].failure.type, "InterpreterDied");
  EXPECT_NE(replies[1].failure.message.find("not a pycemit reply"), std::string::npos) << replies[1].failure.message;
  EXPECT_TRUE(replies[2].code);
}

TEST(InterpreterPool, RefusesWhatIsNotAPythonHandshake) {
  testing::TempTree t;
  const auto expect_refused = [](const std::string& interpreter, const std::string& fragment) {
    InterpreterPool pool(interpreter, 1, 3s);
    try {
      pool.handshake();
      ADD_FAILURE() << "accepted " << interpreter;
    } catch (const InterpreterError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_refused(script(t, "junk", "#!/bin/sh\necho 'Hello, I am not Python'\n/bin/sleep 5\n"),
                 "no pycemit handshake (not a Python interpreter?): bad frame length");
  expect_refused(script(t, "exits", "#!/bin/sh\necho oops >&2\nexit 4\n"), "exited with status 4 (it said: oops)");
  expect_refused(script(t, "hangs", "#!/bin/sh\nexec /bin/sleep 60\n"), "no answer within 3 s");
  EXPECT_THROW(InterpreterPool(t / "missing", 1, 1s).handshake(), InterpreterError);
}

}  // namespace
}  // namespace pycemit
