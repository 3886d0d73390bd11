#include "test_interpreters.h"

#include <fcntl.h>
#include <glob.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

namespace pycemit::testing {

namespace {

namespace fs = std::filesystem;

constexpr const char* kProbe =
    "import sys; print(sys.implementation.name, '%d.%d.%d' % sys.version_info[:3])";

// Runs `argv` (no shell); its standard output, or nothing when it could not be
// started or exited non-zero. With `quiet`, its standard error is discarded.
std::optional<std::string> run(const std::vector<std::string>& argv, bool quiet) {
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
    if (quiet) {
      const int null = open("/dev/null", O_WRONLY);
      if (null >= 0) dup2(null, 2);
    }
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

// "cpython 3.11.7" (the probe's output, or a line of interpreters.py --all
// with tabs) into `interpreter`; false when it does not parse.
bool parse_description(const std::string& implementation, const std::string& version,
                       TestInterpreter& interpreter) {
  static const std::regex dotted(R"((\d+)\.(\d+)\.(\d+))");
  std::smatch m;
  if (!std::regex_match(version, m, dotted)) return false;
  interpreter.implementation = implementation;
  interpreter.major = std::stoi(m[1]);
  interpreter.minor = std::stoi(m[2]);
  interpreter.micro = std::stoi(m[3]);
  return true;
}

std::optional<TestInterpreter> probe(const std::string& path) {
  const auto out = run({path, "-S", "-c", kProbe}, /*quiet=*/true);
  if (!out) return std::nullopt;
  std::istringstream words(*out);
  std::string implementation, version;
  TestInterpreter interpreter;
  interpreter.path = path;
  if (!(words >> implementation >> version) || !parse_description(implementation, version, interpreter)) {
    return std::nullopt;
  }
  return interpreter;
}

std::vector<std::string> glob_paths(const std::string& pattern) {
  std::vector<std::string> paths;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return paths;  // glob() sorts
}

// /opt/pycemit-test-tools/*/bin/python3.N and pypy3, /usr/bin/pypy3.
std::vector<std::string> extra_candidates() {
  static const std::regex versioned(R"(python3\.\d+)");
  std::vector<std::string> found;
  for (const auto& path : glob_paths("/opt/pycemit-test-tools/*/bin/python3.*")) {
    if (std::regex_match(fs::path(path).filename().string(), versioned)) found.push_back(path);
  }
  found.push_back("/usr/bin/pypy3");
  for (const auto& path : glob_paths("/opt/pycemit-test-tools/*/bin/pypy3")) found.push_back(path);
  return found;
}

std::string real_path(const std::string& path) {
  std::error_code error;
  const fs::path real = fs::canonical(path, error);
  return error ? std::string() : real.string();
}

bool wanted(const TestInterpreter& interpreter) {
  if (interpreter.is_cpython()) return std::tie(interpreter.major, interpreter.minor) >= std::make_tuple(3, 8);
  return interpreter.is_pypy() && interpreter.major == 3;
}

std::vector<TestInterpreter> discover() {
  std::vector<TestInterpreter> found;
  std::set<std::string> seen;  // real paths
  const auto add = [&](TestInterpreter interpreter) {
    const std::string real = real_path(interpreter.path);
    if (real.empty() || !seen.insert(real).second) return;
    if (wanted(interpreter)) found.push_back(std::move(interpreter));
  };
  // interpreters.py --all: "path<TAB>implementation<TAB>version", already probed.
  const std::string listed =
      run_and_capture({"python3", PYCEMIT_SOURCE_DIR "/tests/lib/interpreters.py", "--all"});
  std::istringstream lines(listed);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string path, implementation, version;
    TestInterpreter interpreter;
    if (!std::getline(fields, path, '\t') || !std::getline(fields, implementation, '\t') ||
        !std::getline(fields, version) || !parse_description(implementation, version, interpreter)) {
      continue;
    }
    interpreter.path = path;
    add(interpreter);
  }
  for (const auto& path : extra_candidates()) {
    const std::string real = real_path(path);
    if (real.empty() || seen.count(real) || access(real.c_str(), X_OK) != 0) continue;
    if (auto interpreter = probe(path)) add(*interpreter);
  }
  std::stable_sort(found.begin(), found.end(), [](const TestInterpreter& a, const TestInterpreter& b) {
    return std::make_tuple(!a.is_cpython(), a.major, a.minor, a.micro, a.path) <
           std::make_tuple(!b.is_cpython(), b.major, b.minor, b.micro, b.path);
  });
  return found;
}

}  // namespace

std::string TestInterpreter::version() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(micro);
}

std::string TestInterpreter::label() const { return implementation + " " + version() + " (" + path + ")"; }

std::string run_and_capture(const std::vector<std::string>& argv) {
  const auto out = run(argv, /*quiet=*/false);
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
