// `pycemit --persistent_worker`: Bazel's JSON worker protocol.
//
// Bazel starts the worker once and sends WorkRequests on stdin:
//   {"arguments": ["@<flag file>"] or ["compile", ...], "requestId": N, "sandboxDir": "...", ...}
// and reads one WorkResponse per request on stdout:
//   {"exitCode": N, "output": "<diagnostics>", "requestId": N}
// Requests are JSON values one after another (Bazel 4 writes one per line; any
// whitespace between them is accepted). Each request is a `pycemit compile`
// command line, run in-process with the same code as the command; the
// interpreter pool is kept between requests (one per interpreter, jobs and
// timeout), so interpreters start once per worker, not once per action.
// Singleplex: requests are handled one at a time, in order. Standard output
// carries nothing but responses.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <tuple>

#include "commands.h"
#include "compile_options.h"
#include "errors.h"
#include "pycemit/compile_run.h"
#include "pycemit/exit_status.h"
#include "pycemit/file_io.h"
#include "pycemit/interpreter.h"
#include "pycemit/interpreter_pool.h"
#include "pycemit/interpreter_process.h"

namespace pycemit::cli {
namespace {

// A reporter that keeps everything for the WorkResponse's "output".
class CapturingReporter : public Reporter {
 public:
  explicit CapturingReporter(Verbosity v) : Reporter(v, false) {}
  std::string text;

 protected:
  void to_stderr(const std::string& t) override { text += t; }
  void to_stdout(const std::string& t) override { text += t; }
};

using PoolKey = std::tuple<std::string, int, long long>;  // interpreter, jobs, timeout (ms)

class Worker {
 public:
  // Runs one request's command line; returns (exit status, output).
  std::pair<int, std::string> handle(std::vector<std::string> args) {
    CLI::App app{"pycemit worker request", "pycemit"};
    app.require_subcommand(1);
    auto* cmd = app.add_subcommand("compile", "compile");
    CompileCommandLine line;
    add_compile_options(*cmd, line);
    try {
      args = expand_flag_file(std::move(args));
      std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
      app.parse(args);
      CompileOptions options = line.to_options();
      options.stat_cache = false;  // one source per request, outputs fresh from Bazel: nothing to remember
      CapturingReporter reporter(line.verbosity());
      const int status = run_compile(options, pool_for(options), reporter);
      return {status, reporter.text};
    } catch (const std::exception&) {
      CommandError error = current_exception_error();
      return {error.status, std::move(error.message)};
    }
  }

 private:
  InterpreterPool& pool_for(const CompileOptions& o) {
    const std::string interpreter = resolve_executable(o.python);
    const int jobs = interpreter_processes(o);
    const PoolKey key{interpreter, jobs, o.timeout.count()};
    auto it = pools_.find(key);
    if (it == pools_.end()) {
      it = pools_.emplace(key, std::make_unique<InterpreterPool>(interpreter, jobs, o.timeout)).first;
    }
    return *it->second;
  }

  std::map<PoolKey, std::unique_ptr<InterpreterPool>> pools_;
};

}  // namespace

int run_persistent_worker() {
  Worker worker;
  while (true) {
    nlohmann::json request;
    try {
      std::cin >> request;
    } catch (const nlohmann::json::parse_error& e) {
      if (std::cin.eof()) return 0;  // Bazel closed our stdin: shut down
      std::cerr << "pycemit worker: unreadable request: " << e.what() << "\n";
      return kExitUsage;
    }
    const int id = request.value("requestId", 0);
    if (request.value("cancel", false)) continue;  // singleplex: nothing runs concurrently to cancel
    const auto args = request.value("arguments", std::vector<std::string>{});

    // A sandboxed request's relative paths are relative to its sandbox directory.
    const std::string sandbox = request.value("sandboxDir", std::string());
    char cwd[4096];
    const bool moved = !sandbox.empty() && ::getcwd(cwd, sizeof cwd) && ::chdir(sandbox.c_str()) == 0;
    auto [status, output] = worker.handle(args);
    if (moved && ::chdir(cwd) != 0) {
      output += "pycemit worker: cannot return to " + std::string(cwd) + "\n";
      status = kExitInternal;
    }
    const nlohmann::json response = {{"exitCode", status}, {"output", output}, {"requestId", id}};
    std::cout << response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    std::cout.flush();
  }
}

}  // namespace pycemit::cli
