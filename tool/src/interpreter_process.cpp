#include "pycemit/interpreter_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "pycemit/bootstrap.h"
#include "pycemit/interpreter.h"

namespace pycemit {
namespace {

// Parsed by Python 2.7 and 3.x alike; everything newer lives in the bootstrap.
constexpr std::string_view kStub = R"(import sys, struct
if sys.path and sys.path[0] in ("", "."):
    del sys.path[0]
v = sys.version_info
impl = sys.implementation.name if hasattr(sys, "implementation") else ("pypy" if "PyPy" in sys.version else "cpython")
if impl not in ("cpython", "pypy") or v < (3, 8):
    fields = [impl.encode("ascii"), ("%d.%d.%d" % tuple(v[:3])).encode("ascii")]
    payload = b"R" + b"".join([struct.pack("<I", len(f)) + f for f in fields])
    out = getattr(sys.stdout, "buffer", sys.stdout)
    out.write(struct.pack("<I", len(payload)) + payload)
    out.flush()
    sys.exit(3)
exec(compile(sys.argv[1], "<pycemit-compiler>", "exec"))
)";

std::string describe(int status) {
  if (WIFSIGNALED(status)) {
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + ::strsignal(WTERMSIG(status)) + ")";
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw InterpreterError(std::string("cannot create a pipe: ") + std::strerror(errno));
  }
}

}  // namespace

std::string_view interpreter_stub_source() { return kStub; }

std::string resolve_executable(const std::string& program) {
  if (program.empty()) throw InterpreterError("no interpreter given");
  if (program.find('/') != std::string::npos) {
    std::string path = program;
    if (path.front() != '/') {
      char cwd[4096];
      if (::getcwd(cwd, sizeof cwd) == nullptr) throw InterpreterError("cannot read the working directory");
      path = std::string(cwd) + "/" + path;
    }
    if (!is_executable_file(path)) {
      throw InterpreterError(program + ": " +
                             (::access(path.c_str(), F_OK) == 0 ? "not an executable file" : "no such file"));
    }
    return path;
  }
  const char* env_path = std::getenv("PATH");
  std::string_view dirs = env_path ? env_path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + program;
    if (is_executable_file(candidate)) return candidate.front() == '/' ? candidate : resolve_executable(candidate);
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  throw InterpreterError(program + ": not found on PATH");
}

std::vector<std::string> interpreter_environment(char** parent) {
  std::vector<std::string> env;
  for (char** e = parent; e && *e; ++e) {
    if (std::strncmp(*e, "PYTHON", 6) != 0) env.emplace_back(*e);
  }
  env.emplace_back("PYTHONHASHSEED=0");
  return env;
}

InterpreterProcess::InterpreterProcess(const std::string& interpreter) {
  const std::vector<std::string> env = interpreter_environment(environ);
  const std::string stub(kStub);
  const std::string program(bootstrap_source());
  std::vector<const char*> argv = {interpreter.c_str(), "-S", "-s", "-B", "-c", stub.c_str(), program.c_str(), nullptr};
  std::vector<const char*> envp;
  for (const auto& e : env) envp.push_back(e.c_str());
  envp.push_back(nullptr);

  int in[2], out[2], err[2], exec_status[2];
  make_pipe(in);
  make_pipe(out);
  make_pipe(err);
  make_pipe(exec_status);
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) {
    const int e = errno;
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1], exec_status[0], exec_status[1]}) ::close(fd);
    throw InterpreterError(std::string("cannot start an interpreter: fork: ") + std::strerror(e));
  }
  if (pid_ == 0) {
    // Child: only async-signal-safe calls from here to exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);  // pycemit died before prctl took effect
    ::setpgid(0, 0);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    if (::chdir("/") != 0) ::_exit(1);
    ::execve(interpreter.c_str(), const_cast<char* const*>(argv.data()), const_cast<char* const*>(envp.data()));
    const int e = errno;
    [[maybe_unused]] auto n = ::write(exec_status[1], &e, sizeof e);
    ::_exit(127);
  }

  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  ::close(exec_status[1]);
  input_fd_ = in[1];
  output_fd_ = out[0];
  stderr_fd_ = err[0];
  for (int fd : {input_fd_, output_fd_, stderr_fd_}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

  // The exec-status pipe closes on a successful exec; an errno arrives otherwise.
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_status[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(exec_status[0]);
  if (n == sizeof exec_errno) {
    reap(false);
    close_fds();
    throw InterpreterError(interpreter + ": cannot run: " + std::strerror(exec_errno));
  }
}

InterpreterProcess::~InterpreterProcess() {
  terminate();
  close_fds();
}

void InterpreterProcess::close_fds() {
  for (int* fd : {&input_fd_, &output_fd_, &stderr_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

std::string InterpreterProcess::terminate() { return reap(true); }

std::string InterpreterProcess::wait_for_exit(std::chrono::milliseconds grace) {
  // It closed its output, so it should be exiting; one that lingers (it
  // closed the pipe but kept running) is killed when the grace period ends.
  // WNOWAIT leaves the exited interpreter a zombie, so its process group cannot be
  // reused before reap() kills what is left of it.
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_) break;
    ::usleep(5000);
  }
  return reap(true);
}

std::string InterpreterProcess::reap(bool kill_first) {
  if (pid_ <= 0) return how_it_ended_;
  if (kill_first) {
    // The interpreter leads its own process group: a wrapper script that did not
    // exec the interpreter goes with everything it started.
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
  }
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  pid_ = -1;
  how_it_ended_ = r < 0 ? "ended (not reaped)" : describe(status);
  return how_it_ended_;
}

}  // namespace pycemit
