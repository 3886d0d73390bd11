// One interpreter process running pycemit's embedded bootstrap program.
//
// Isolation: the environment is pycemit's own minus every PYTHON* variable, plus
// PYTHONHASHSEED=0 (-E/-I would ignore it); flags -S -s -B; working directory
// "/"; its own process group, so a terminal's Ctrl-C reaches pycemit only.
// Lifetime: the child asks the kernel to SIGKILL it when pycemit dies
// (prctl PR_SET_PDEATHSIG), however pycemit dies, and it exits on end of input.
// The process must be spawned from the thread that lives as long as the pool
// (the death signal follows the spawning thread).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace pycemit {

// The program given to `python -c`: refuses (with a protocol 'R' frame and exit
// status 3) anything that is neither CPython nor PyPy of Python >= 3.8, in a syntax that Python 2 and
// old Python 3 can parse, then runs the bootstrap program passed as argv[1].
std::string_view interpreter_stub_source();

// The absolute path of `program`: itself if it contains '/', else the first
// executable match on $PATH. Throws InterpreterError ("python3: not found on PATH",
// "<path>: not an executable file").
std::string resolve_executable(const std::string& program);

// The environment interpreters get: `parent` minus PYTHON* variables, plus PYTHONHASHSEED=0.
std::vector<std::string> interpreter_environment(char** parent);

class InterpreterProcess {
 public:
  // Starts `interpreter` (an absolute path) with the bootstrap program. Returns
  // once the process exists; its handshake arrives later on output_fd(). Throws
  // InterpreterError if it cannot be started (exec failure, with errno's text).
  explicit InterpreterProcess(const std::string& interpreter);
  ~InterpreterProcess();  // kills (SIGKILL) and reaps the process if still running
  InterpreterProcess(const InterpreterProcess&) = delete;
  InterpreterProcess& operator=(const InterpreterProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Pipe ends, all non-blocking.
  int input_fd() const { return input_fd_; }    // requests to the interpreter
  int output_fd() const { return output_fd_; }  // replies from the interpreter
  int stderr_fd() const { return stderr_fd_; }  // the interpreter's standard error

  // Sends SIGKILL to its process group and reaps it. Returns a description of
  // how it ended ("killed by signal 9 (Killed)", "exited with status 1").
  // Idempotent.
  std::string terminate();
  // Reaps a process that has closed its output, killing it (and its process
  // group) if it has not exited within `grace`; returns how it ended.
  std::string wait_for_exit(std::chrono::milliseconds grace);

 private:
  std::string reap(bool kill_first);
  void close_fds();

  pid_t pid_ = -1;
  int input_fd_ = -1;
  int output_fd_ = -1;
  int stderr_fd_ = -1;
  std::string how_it_ended_;
};

}  // namespace pycemit
