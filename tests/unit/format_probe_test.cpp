// The format probe and the Verify request against real interpreters
// (format_probe.h, compiler.h): every installed interpreter's format passes, a
// wrong code layout is refused naming what differed, and the interpreter names
// the first difference between two code objects.
#include "pycemit/format_probe.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "pycemit/interpreter_pool.h"
#include "pycemit/marshal.h"
#include "test_interpreters.h"

namespace pycemit {
namespace {

using namespace std::chrono_literals;

CompileReply one(InterpreterPool& pool, CompileRequest request) {
  pool.submit(std::move(request));
  return pool.next_reply();
}

std::string compiled(InterpreterPool& pool, const std::string& source) {
  CompileRequest request;
  request.embedded_path = "m.py";
  request.source = source;
  const CompileReply reply = one(pool, std::move(request));
  EXPECT_TRUE(reply.code) << reply.failure.message;
  return reply.code.value_or("");
}

std::string probe_refusal(const testing::TestInterpreter& interpreter, marshal::CodeLayout layout) {
  InterpreterPool pool(interpreter.path, 1, 60s);
  InterpreterInfo info = pool.handshake();
  info.known_format = false;
  info.format_note = "probed with another layout";
  info.code_layout = layout;
  try {
    probe_format(pool, info);
  } catch (const InterpreterError& e) {
    return e.what();
  }
  return "passed";
}

TEST(FormatProbeInterpreters, EveryInstalledInterpreterPassesWithItsLayout) {
  for (const auto& interpreter : testing::installed_interpreters()) {
    SCOPED_TRACE(interpreter.label());
    InterpreterPool pool(interpreter.path, 1, 60s);
    InterpreterInfo info = pool.handshake();
    EXPECT_TRUE(info.known_format) << info.format_note;
    info.known_format = false;  // as for a version pycemit does not know
    EXPECT_NO_THROW(probe_format(pool, info));
    EXPECT_TRUE(info.format_probed);
  }
}

TEST(FormatProbeInterpreters, AWrongCodeLayoutIsRefusedNamingWhatDiffered) {
  for (const auto& interpreter : testing::installed_interpreters()) {
    SCOPED_TRACE(interpreter.label());
    const bool py38_fields = interpreter.minor <= 10 || interpreter.is_pypy();
    const marshal::CodeLayout wrong = py38_fields ? marshal::CodeLayout::Py311 : marshal::CodeLayout::Py38;
    const std::string refusal = probe_refusal(interpreter, wrong);
    EXPECT_NE(refusal.find("probed with another layout; its pyc format failed pycemit's probe: the code object of "
                           "probe 0 at level 0"),
              std::string::npos)
        << refusal;
  }
}

TEST(FormatProbeInterpreters, TheInterpreterNamesTheFirstDifference) {
  for (const auto& interpreter : testing::installed_interpreters()) {
    SCOPED_TRACE(interpreter.label());
    InterpreterPool pool(interpreter.path, 1, 60s);
    const InterpreterInfo& info = pool.handshake();
    const std::string one_bytes = compiled(pool, "def f():\n    return 'x', 1.5\n");
    const std::string minus = compiled(pool, "def f():\n    return 'x', -1.5\n");

    CompileRequest same;
    same.kind = CompileRequest::Kind::Verify;
    same.source = one_bytes;
    same.canonical = marshal::canonicalize(one_bytes, info.code_layout);
    const CompileReply equal = one(pool, same);
    EXPECT_TRUE(equal.code) << equal.failure.message;

    CompileRequest differ = same;
    differ.canonical = marshal::canonicalize(minus, info.code_layout);
    const CompileReply reply = one(pool, differ);
    ASSERT_FALSE(reply.code);
    EXPECT_EQ(reply.failure.type, CompileFailure::kVerifyMismatch);
    EXPECT_NE(reply.failure.message.find(".co_consts["), std::string::npos) << reply.failure.message;
    EXPECT_NE(reply.failure.message.find("1.5 vs -1.5"), std::string::npos) << reply.failure.message;

    CompileRequest unloadable = same;
    unloadable.canonical = same.canonical.substr(0, same.canonical.size() / 2);
    const CompileReply broken = one(pool, unloadable);
    ASSERT_FALSE(broken.code);
    EXPECT_NE(broken.failure.message.find("marshal.loads rejects the canonical bytes"), std::string::npos)
        << broken.failure.message;
  }
}

}  // namespace
}  // namespace pycemit
