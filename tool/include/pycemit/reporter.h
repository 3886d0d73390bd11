// What a run tells its user: diagnostics on stderr, per-file lines with -v on
// stdout, a progress line on a terminal, and a one-line summary.
//   - errors: always, one line each ("path:line:col: SyntaxError: message");
//   - warnings (compiler warnings, files skipped by policy): unless quiet;
//   - progress (done/total, rate, current file): only when stderr is a terminal
//     and not quiet, redrawn at most 10 times a second, erased at the end;
//   - verbose: every output named with what happened to it.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace pycemit {

enum class Verbosity { Quiet, Normal, Verbose };

class Reporter {
 public:
  // `progress`: draw the progress line (the caller decides: stderr is a TTY).
  Reporter(Verbosity verbosity, bool progress);
  virtual ~Reporter() = default;

  Verbosity verbosity() const { return verbosity_; }

  void error(const std::string& line);
  void warning(const std::string& line);
  // With -v: "<what> <path>", e.g. "wrote build/__pycache__/a.cpython-312.pyc".
  void file(const std::string& what, const std::string& path);
  // With -v: a free-form line on stdout.
  void verbose(const std::string& line);
  // Unless quiet: the final summary on stderr.
  void summary(const std::string& line);

  void set_total(std::size_t sources);
  void source_done(const std::string& path);  // advances the progress line

 protected:
  // Where lines go; tests override these to capture them.
  virtual void to_stderr(const std::string& text);
  virtual void to_stdout(const std::string& text);

 private:
  void clear_progress();
  void draw_progress(const std::string& current);

  Verbosity verbosity_;
  bool progress_;
  bool progress_shown_ = false;
  std::size_t total_ = 0;
  std::size_t done_ = 0;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace pycemit
