// The compile stage: a pool of long-lived target-interpreter processes
// (interpreter_process.h) fed over pipes with the framed protocol (interpreter_protocol.h).
//
// Up to two requests in flight per interpreter (the second waits in its pipe);
// interpreters are started on demand, up to the pool size, so a run with one
// stale file starts one interpreter and a no-op run starts none. Every
// interpreter's handshake is checked: its facts must be ones decide_format
// accepts (interpreter.h: CPython or PyPy of Python 3.8+, a source hash pycemit
// reproduces), and the same as the first interpreter's (a mismatch is a hard
// error, never a wrong pyc).
//
// An interpreter that dies, writes something that is not a frame, or runs longer than
// the timeout on one request is killed and replaced; that request gets a
// failure reply (type "InterpreterDied" or "Timeout") and the rest go on.
//
// Single-threaded: call everything from the thread that owns the pool.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pycemit/compiler.h"
#include "pycemit/interpreter.h"

namespace pycemit {

class InterpreterPool : public Compiler {
 public:
  // `interpreter`: absolute path (see resolve_executable). `max_processes` >= 1.
  // `timeout`: limit for one request, and for an interpreter's handshake.
  InterpreterPool(std::string interpreter, int max_processes, std::chrono::milliseconds timeout);
  ~InterpreterPool() override;
  InterpreterPool(const InterpreterPool&) = delete;
  InterpreterPool& operator=(const InterpreterPool&) = delete;

  // Starts one interpreter if none is running and waits for its handshake. Returns the
  // interpreter's facts. Throws InterpreterError (refused, not Python, timeout,
  // hash self-check mismatch).
  const InterpreterInfo& handshake();

  // When facts are already known (a cached probe), every interpreter's handshake is
  // checked against them instead of against the first interpreter's.
  void expect(const InterpreterInfo& info);

  // The facts learnt so far (from handshake() or expect()), if any.
  const std::optional<InterpreterInfo>& info() const { return info_; }

  // Queues a request and starts the interpreters it needs at once (their start-up
  // overlaps whatever the caller does before next_reply()).
  void submit(CompileRequest request) override;

  // Requests submitted and not yet returned by next_reply().
  std::size_t outstanding() const override { return queue_.size() + in_flight_ + ready_.size(); }

  // Blocks until some request finishes and returns its reply (in completion
  // order). Throws InterpreterError when interpreters cannot be started or fail their
  // handshake; std::logic_error when nothing is outstanding.
  CompileReply next_reply() override;

  // Number of interpreter processes started so far (for tests and the benchmark).
  int processes_started() const override { return processes_started_; }

  // The interpreter's absolute path, as given.
  const std::string& interpreter() const { return interpreter_; }
  int max_processes() const override { return max_processes_; }

  // Kills every interpreter and forgets every outstanding request. The pool can be
  // used again (new interpreters start on demand).
  void cancel() override;

 private:
  struct Process;
  void start_processes();
  void dispatch();
  void poll_once();
  bool read_replies(Process& proc);
  void read_stderr(Process& proc);
  void flush_requests(Process& proc);
  void handle_frame(Process& proc, char kind, const std::vector<std::string>& fields);
  void check_hello(const std::vector<std::string>& fields);
  void retire(Process& proc, const std::string& type, const std::string& why);

  std::string interpreter_;
  int max_processes_;
  std::chrono::milliseconds timeout_;
  std::optional<InterpreterInfo> info_;
  std::vector<std::unique_ptr<Process>> processes_;
  std::deque<CompileRequest> queue_;
  std::deque<CompileReply> ready_;
  std::size_t in_flight_ = 0;
  int processes_started_ = 0;
  std::vector<char> read_buffer_;
};

}  // namespace pycemit
