#include "pycemit/reporter.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace pycemit {

Reporter::Reporter(Verbosity verbosity, bool progress)
    : verbosity_(verbosity),
      progress_(progress && verbosity != Verbosity::Quiet),
      started_(std::chrono::steady_clock::now()) {}

void Reporter::to_stderr(const std::string& text) {
  std::cerr << text;
  std::cerr.flush();
}

void Reporter::to_stdout(const std::string& text) {
  std::cout << text;
  std::cout.flush();
}

void Reporter::error(const std::string& line) {
  clear_progress();
  to_stderr(line + "\n");
}

void Reporter::warning(const std::string& line) {
  if (verbosity_ == Verbosity::Quiet) return;
  clear_progress();
  to_stderr(line + "\n");
}

void Reporter::file(const std::string& what, const std::string& path) {
  if (verbosity_ != Verbosity::Verbose) return;
  clear_progress();
  to_stdout(what + " " + path + "\n");
}

void Reporter::verbose(const std::string& line) {
  if (verbosity_ != Verbosity::Verbose) return;
  clear_progress();
  to_stdout(line + "\n");
}

void Reporter::summary(const std::string& line) {
  clear_progress();
  if (verbosity_ != Verbosity::Quiet) to_stderr(line + "\n");
}

void Reporter::set_total(std::size_t sources) { total_ = sources; }

void Reporter::source_done(const std::string& path) {
  ++done_;
  if (!progress_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done_ != total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw_progress(path);
}

void Reporter::draw_progress(const std::string& current) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  char head[96];
  std::snprintf(head, sizeof head, "[%zu/%zu] %.0f files/s ", done_, total_, seconds > 0 ? done_ / seconds : 0.0);
  std::string line = head + current;
  winsize ws{};
  const std::size_t width = ::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10 ? ws.ws_col - 1 : 79;
  if (line.size() > width) line = line.substr(0, width);
  to_stderr("\r\033[K" + line);
  progress_shown_ = true;
}

void Reporter::clear_progress() {
  if (!progress_shown_) return;
  to_stderr("\r\033[K");
  progress_shown_ = false;
}

}  // namespace pycemit
