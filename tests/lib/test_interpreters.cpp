#include "test_interpreters.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <sstream>

namespace pycemit::testing {

namespace {

// Runs `argv` (no shell); its standard output, or nothing when it could not be
// started or exited non-zero.
std::optional<std::string> run(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe(fds) != 0) return std::nullopt;
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return out;
}

// interpreters.py --targets: "path<TAB>implementation<TAB>major.minor.micro"
// per line, CPythons first, each oldest first, one per real path.
std::vector<TestInterpreter> discover() {
  std::vector<TestInterpreter> found;
  const std::string listed = run_and_capture({"python3", PYCEMIT_SOURCE_DIR "/tests/lib/interpreters.py", "--targets"});
  std::istringstream lines(listed);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string path, implementation, version;
    TestInterpreter interpreter;
    if (!std::getline(fields, path, '\t') || !std::getline(fields, implementation, '\t') ||
        !std::getline(fields, version) ||
        std::sscanf(version.c_str(), "%d.%d.%d", &interpreter.major, &interpreter.minor, &interpreter.micro) != 3) {
      continue;
    }
    interpreter.path = path;
    interpreter.implementation = implementation;
    found.push_back(std::move(interpreter));
  }
  return found;
}

}  // namespace

std::string TestInterpreter::version() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(micro);
}

std::string TestInterpreter::label() const { return implementation + " " + version() + " (" + path + ")"; }

std::string run_and_capture(const std::vector<std::string>& argv) {
  const auto out = run(argv);
  if (!out) {
    ADD_FAILURE() << "command failed: " << argv[0];
    return {};
  }
  return *out;
}

std::vector<std::string> installed_cpythons() {
  static const std::vector<std::string> found = [] {
    std::string out = run_and_capture({"python3", PYCEMIT_SOURCE_DIR "/tests/lib/interpreters.py"});
    std::vector<std::string> paths;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) paths.push_back(line);
    }
    return paths;
  }();
  if (found.size() < 3) {
    ADD_FAILURE() << "fewer than three CPython >= 3.8 interpreters installed";
  }
  return found;
}

std::vector<TestInterpreter> installed_interpreters() {
  static const std::vector<TestInterpreter> found = discover();
  const auto cpythons = std::count_if(found.begin(), found.end(), [](const auto& i) { return i.is_cpython(); });
  if (cpythons < 3) {
    ADD_FAILURE() << "fewer than three CPython >= 3.8 interpreters installed";
  }
  return found;
}

std::vector<TestInterpreter> installed_cpython_interpreters() {
  std::vector<TestInterpreter> result;
  for (const auto& interpreter : installed_interpreters()) {
    if (interpreter.is_cpython()) result.push_back(interpreter);
  }
  return result;
}

std::vector<TestInterpreter> installed_pypys() {
  std::vector<TestInterpreter> result;
  for (const auto& interpreter : installed_interpreters()) {
    if (interpreter.is_pypy()) result.push_back(interpreter);
  }
  return result;
}

}  // namespace pycemit::testing
