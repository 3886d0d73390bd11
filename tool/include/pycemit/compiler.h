// The compile stage as the orchestrator (compile_run.h) sees it: requests in,
// replies out, in completion order. InterpreterPool (interpreter_pool.h) is the
// real one: target-interpreter processes fed over pipes. Tests give the
// orchestrator a compiler that answers with canned marshal bytes, so its rules
// run without an interpreter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pycemit {

// One request (tool/bootstrap/compiler.py answers them in the interpreter):
//   Compile: compile(source, embedded_path, "exec", dont_inherit=True,
//            optimize=optimize); the reply's `code` is marshal.dumps of the code.
//   Dump:    `source` is a Python expression (UTF-8); the reply's `code` is
//            marshal.dumps of its value (the format probe's data objects).
//   Verify:  `source` is marshal data the interpreter wrote and `canonical`
//            pycemit's canonical form of it; the reply has an empty `code` when
//            both load to equal objects (exact types, float bits, every co_*
//            attribute), else a failure of type kVerifyMismatch naming the first
//            difference.
struct CompileRequest {
  enum class Kind { Compile, Dump, Verify };
  Kind kind = Kind::Compile;
  std::uint64_t id = 0;       // chosen by the caller; the reply carries it back
  int optimize = 0;           // Compile: compile(optimize=...): 0, 1 or 2
  std::string embedded_path;  // Compile: co_filename, file-system bytes (decoded with surrogateescape)
  std::string source;         // Compile: the source file's bytes, exactly as on disk; see above for the others
  std::string canonical;      // Verify: the canonical bytes
};

// A warning the compiler emitted (SyntaxWarning, DeprecationWarning...).
struct CompileWarning {
  std::string category;
  int line = 0;
  std::string message;
};

// Why a request produced no code. `line`/`column` as the interpreter reported
// them (column is SyntaxError.offset, 1-based); absent when unknown or 0.
struct CompileFailure {
  // "SyntaxError", "ValueError", "RecursionError"... for a source the compiler
  // rejected; kInterpreterDied or kTimeout when the interpreter failed instead.
  std::string type;
  std::string message;
  std::optional<int> line;
  std::optional<int> column;

  static constexpr const char* kInterpreterDied = "InterpreterDied";
  static constexpr const char* kTimeout = "Timeout";
  // A Verify request whose two objects differ; `message` names the difference.
  static constexpr const char* kVerifyMismatch = "VerifyMismatch";
  // Set by the orchestrator: the marshal bytes of a reply cannot be read, or are
  // not the code object compiled for this file.
  static constexpr const char* kUnusableReply = "UnusableReply";
  // Whether the source itself was rejected (not the interpreter that failed on it).
  bool rejected_by_compiler() const {
    return type != kInterpreterDied && type != kTimeout && type != kVerifyMismatch && type != kUnusableReply;
  }
};

struct CompileReply {
  std::uint64_t id = 0;
  std::optional<std::string> code;  // marshal.dumps(code), as the interpreter wrote it
  std::vector<CompileWarning> warnings;
  CompileFailure failure;  // meaningful only when !code
};

class Compiler {
 public:
  virtual ~Compiler() = default;

  // Queues a request (and may start the work it needs at once).
  virtual void submit(CompileRequest request) = 0;

  // Blocks until some request finishes and returns its reply (in completion
  // order). Throws InterpreterError when the compiler cannot run at all;
  // std::logic_error when nothing is outstanding.
  virtual CompileReply next_reply() = 0;

  // Requests submitted and not yet returned by next_reply().
  virtual std::size_t outstanding() const = 0;

  // Forgets every outstanding request (an interpreter pool kills its
  // processes). The compiler can be used again.
  virtual void cancel() = 0;

  // How many requests it works on at once (interpreter processes), at least 1:
  // the orchestrator keeps a few times this many in flight.
  virtual int max_processes() const = 0;

  // Processes started so far (for the run's statistics).
  virtual int processes_started() const = 0;
};

}  // namespace pycemit
