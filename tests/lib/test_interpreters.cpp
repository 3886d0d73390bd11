#include "test_interpreters.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

namespace pycemit::testing {

std::string run_and_capture(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe failed";
    return {};
  }
  pid_t pid = fork();
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
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ADD_FAILURE() << "command failed: " << argv[0] << " (status " << status << ")";
  }
  return out;
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
  if (found.size() < 3) ADD_FAILURE() << "fewer than three CPython >= 3.8 interpreters installed";
  return found;
}

}  // namespace pycemit::testing
