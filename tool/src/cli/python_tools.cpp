// What `pycemit compileall` and `pycemit py_compile` share: running the
// pipeline over the sources CPython's tool would compile, with the pyc names,
// embedded paths and default invalidation mode that tool would use, and
// learning which sources were compiled or failed (python_tools.h).
#include "python_tools.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "pycemit/compile_run.h"
#include "pycemit/discover.h"
#include "pycemit/interpreter.h"
#include "pycemit/interpreter_cache.h"
#include "pycemit/interpreter_pool.h"
#include "pycemit/interpreter_process.h"
#include "pycemit/naming.h"
#include "pycemit/plan.h"
#include "pycemit/reporter.h"

extern char** environ;

namespace pycemit::cli {
namespace {

// Keeps the run's lines: -v lines name each output placed, errors and warnings
// begin with the source's path; the summary is not compileall's and is dropped.
class CapturingReporter : public Reporter {
 public:
  CapturingReporter() : Reporter(Verbosity::Verbose, false) {}
  std::vector<std::string> out;
  std::vector<std::string> err;

 protected:
  void to_stderr(const std::string& text) override { split(text, err); }
  void to_stdout(const std::string& text) override { split(text, out); }

 private:
  static void split(const std::string& text, std::vector<std::string>& into) {
    std::size_t start = 0;
    while (start < text.size()) {
      auto end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      into.push_back(text.substr(start, end - start));
      start = end + 1;
    }
  }
};

bool is_summary(const std::string& line) {
  static const std::string kStart = "pycemit: ";
  if (line.compare(0, kStart.size(), kStart) != 0) return false;
  return line.find(" sources, ", kStart.size()) != std::string::npos;
}

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string h;
  for (unsigned char c : bytes) {
    h += digits[c >> 4];
    h += digits[c & 15];
  }
  return h;
}

std::string unhex(const std::string& text) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(text.substr(i, 2), nullptr, 16));
  }
  return bytes;
}

// Asks the target for py_compile's own text of each failure: the interpreter's
// traceback.format_exception_only, with the embedded path, via its own
// py_compile.PyCompileError (Lib/py_compile.py), or the OSError of reading it.
// Lines in: "<hex path> <hex dfile or -> <level>"; out: "P x<hex msg>",
// "O <class> x<hex msg>" or "N" (it compiles now).
constexpr const char* kFailureTextProgram = R"PY(
import os, sys, importlib.machinery, py_compile
for line in sys.stdin:
    p, d, o = line.split()
    path = os.fsdecode(bytes.fromhex(p))
    dfile = os.fsdecode(bytes.fromhex(d)) if d != '-' else None
    loader = importlib.machinery.SourceFileLoader('<py_compile>', path)
    try:
        data = loader.get_data(path)
    except OSError as e:
        print('O', type(e).__name__, 'x' + str(e).encode('utf-8', 'backslashreplace').hex(), flush=True)
        continue
    try:
        loader.source_to_code(data, dfile or path, _optimize=int(o))
    except Exception as e:
        m = py_compile.PyCompileError(e.__class__, e, dfile or path).msg
        print('P', 'x' + m.encode('utf-8', 'backslashreplace').hex(), flush=True)
        continue
    print('N', flush=True)
)PY";

void explain_failures(const std::vector<ToolSource>& sources, const std::vector<std::size_t>& failed, int level,
                      const TargetInterpreter& target, std::vector<ToolOutcome>& outcomes) {
  std::string input;
  for (std::size_t i : failed) {
    const auto& s = sources[i];
    input += hex(s.path) + " " + (s.dfile ? hex(*s.dfile) : "-") + " " + std::to_string(level) + "\n";
  }
  std::vector<std::string> argv{resolve_executable(target.python)};
  argv.insert(argv.end(), target.interpreter_options.begin(), target.interpreter_options.end());
  argv.insert(argv.end(), {"-c", kFailureTextProgram});
  int status = 0;
  std::string text;
  try {
    text = run_and_capture(argv, input, status);
  } catch (const std::exception&) {
    return;  // pycemit's own lines stay
  }
  std::size_t start = 0;
  for (std::size_t i : failed) {
    if (start >= text.size()) break;
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    ToolOutcome& o = outcomes[i];
    if (line.rfind("P x", 0) == 0) {
      o.error_class.clear();
      o.message = unhex(line.substr(3));
    } else if (line.rfind("O ", 0) == 0) {
      const auto space = line.find(' ', 2);
      if (space == std::string::npos || line.size() < space + 2) continue;
      o.error_class = line.substr(2, space - 2);
      o.message = unhex(line.substr(space + 2));
    }
  }
}

}  // namespace

int target_minor(const TargetInterpreter& target) {
  InterpreterPool pool(resolve_executable(target.python), 1, std::chrono::seconds(60));
  return learn_interpreter(pool).minor;
}

std::string run_and_capture(const std::vector<std::string>& argv, const std::string& input, int& status) {
  char in_name[] = "/tmp/pycemit-input-XXXXXX";
  const int in_fd = ::mkstemp(in_name);
  if (in_fd < 0) throw InterpreterError(std::string("cannot make a temporary file: ") + std::strerror(errno));
  ::unlink(in_name);
  std::size_t done = 0;
  while (done < input.size()) {
    const ssize_t n = ::write(in_fd, input.data() + done, input.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::lseek(in_fd, 0, SEEK_SET);
  int out[2];
  if (::pipe(out) != 0) {
    ::close(in_fd);
    throw InterpreterError(std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(in_fd);
    ::close(out[0]);
    ::close(out[1]);
    throw InterpreterError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::dup2(in_fd, 0);
    ::dup2(out[1], 1);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(in_fd);
  ::close(out[1]);
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  if (status == 127) throw InterpreterError(argv[0] + ": cannot be run");
  return text;
}

std::string python_repr(const std::string& bytes) {
  // Decode as UTF-8 with surrogateescape: each byte of an invalid sequence is U+DC80+byte.
  std::vector<std::pair<char32_t, std::string>> chars;  // code point, its UTF-8 bytes
  for (std::size_t i = 0; i < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool valid = len > 0 && i + len <= bytes.size();
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (std::size_t k = 1; valid && k < len; ++k) {
      const auto d = static_cast<unsigned char>(bytes[i + k]);
      if ((d >> 6) != 2) valid = false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (valid && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
                  (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)) {
      valid = false;
    }
    if (!valid) {
      chars.emplace_back(0xdc00 + c, std::string());
      i += 1;
    } else {
      chars.emplace_back(cp, bytes.substr(i, len));
      i += len;
    }
  }
  bool has_single = false, has_double = false;
  for (const auto& [cp, _] : chars) {
    has_single |= cp == '\'';
    has_double |= cp == '"';
  }
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string r(1, quote);
  char esc[16];
  for (const auto& [cp, utf8] : chars) {
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      r += '\\';
      r += static_cast<char>(cp);
    } else if (cp == '\t') {
      r += "\\t";
    } else if (cp == '\n') {
      r += "\\n";
    } else if (cp == '\r') {
      r += "\\r";
    } else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
      std::snprintf(esc, sizeof esc, "\\x%02x", static_cast<unsigned>(cp));
      r += esc;
    } else if (utf8.empty()) {
      std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(cp));
      r += esc;
    } else {
      r += utf8;
    }
  }
  r += quote;
  return r;
}

std::vector<ToolOutcome> run_tool_pipeline(const std::vector<ToolSource>& sources, const ToolSettings& settings,
                                           const TargetInterpreter& target) {
  std::vector<ToolOutcome> outcomes(sources.size());
  if (sources.empty()) {
    if (settings.stats) write_stats(*settings.stats, CompileStats{});
    return outcomes;
  }

  CompileOptions o;
  o.python = target.python;
  o.jobs = settings.jobs;
  o.cache = compile_cache_options_from_environment();  // docs/cache.md: CPython's command lines have no option for it
  // py_compile's _get_default_invalidation_mode: checked-hash when SOURCE_DATE_EPOCH is set and not empty.
  const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
  o.mode = settings.mode.value_or(epoch && *epoch ? InvalidationMode::CheckedHash : InvalidationMode::Timestamp);
  std::set<int> levels(settings.levels.begin(), settings.levels.end());
  if (levels.empty()) levels.insert(target.flags_optimize);
  if (settings.legacy) {
    // compileall -b writes every level to the one <source>c: the last (highest) is what stays.
    o.levels = {*levels.rbegin()};
    o.layout = Layout::Sourceless;
  } else {
    o.levels.assign(levels.begin(), levels.end());
    std::optional<std::string> prefix = target.pycache_prefix;
    if (!prefix && !target.ignore_environment) {
      const char* env = std::getenv("PYTHONPYCACHEPREFIX");
      if (env && *env) prefix = env;
    }
    if (prefix) {
      o.layout = Layout::Prefix;
      o.locations.pycache_prefix = absolute_path(*prefix);
    }
  }
  o.hardlink_dupes = settings.hardlink_dupes && o.levels.size() > 1;
  o.force = settings.force;
  o.stats = settings.stats;
  // Every source is named by its absolute path below "/", written in place, and
  // embeds what CPython's tool would have given py_compile.
  o.locations.source_root = "/";
  auto embedded = std::make_shared<std::map<std::string, std::string>>();
  std::map<std::string, std::size_t> by_absolute;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const std::string abs = absolute_path(sources[i].path);
    if (by_absolute.emplace(abs, i).second) {
      o.paths.push_back(sources[i].path);
      (*embedded)[abs] = sources[i].dfile.value_or(sources[i].path);
    }
  }
  o.locations.embedded_paths = embedded;
  validate_options(o);

  InterpreterPool pool(resolve_executable(o.python), interpreter_processes(o), o.timeout);
  const InterpreterInfo info = learn_interpreter(pool);
  const Locations locations = resolve_locations(o.locations, o.layout);
  const std::string cache_tag = cache_tag_for(info, o.layout);

  // Which source each output and each line belongs to.
  std::map<std::string, std::size_t> by_output;
  std::map<std::string, std::size_t> by_path;
  std::vector<std::size_t> planned(sources.size(), 0), placed(sources.size(), 0);
  for (const auto& [abs, i] : by_absolute) {
    const PlannedSource plan = plan_source({sources[i].path, abs}, locations, o.layout, cache_tag, o.levels);
    for (const auto& out : plan.outputs) by_output[out.path] = i;
    planned[i] = plan.outputs.size();
    by_path[sources[i].path] = i;
  }

  CapturingReporter reporter;
  run_compile(o, pool, reporter);

  for (const auto& line : reporter.out) {
    const auto space = line.find(' ');
    if (space == std::string::npos) continue;
    const std::string what = line.substr(0, space);
    const auto it = by_output.find(line.substr(space + 1));
    if (it == by_output.end()) continue;
    ++placed[it->second];
    if (what == "wrote" || what == "linked") outcomes[it->second].compiled = true;
  }
  // A line "<source path>:..." or "<output path>..." belongs to that source.
  auto owner = [&](const std::string& line) -> std::optional<std::size_t> {
    for (std::size_t colon = line.find(':'); colon != std::string::npos; colon = line.find(':', colon + 1)) {
      const auto it = by_path.find(line.substr(0, colon));
      if (it != by_path.end()) return it->second;
    }
    for (const auto& [path, i] : by_output) {
      if (line.find(path) != std::string::npos) return i;
    }
    return std::nullopt;
  };
  std::vector<std::size_t> failed;
  std::vector<std::string> other;
  for (const auto& line : reporter.err) {
    if (is_summary(line)) continue;
    const auto i = owner(line);
    if (i && placed[*i] < planned[*i]) {
      if (!outcomes[*i].failed) failed.push_back(*i);
      outcomes[*i].failed = true;
      outcomes[*i].compiled = true;
      if (outcomes[*i].message.empty()) outcomes[*i].message = line;
    } else {
      other.push_back(line);
    }
  }
  for (const auto& [abs, i] : by_absolute) {
    if (placed[i] < planned[i] && !outcomes[i].failed) {
      outcomes[i].failed = outcomes[i].compiled = true;
      outcomes[i].message = sources[i].path + ": not compiled";
      failed.push_back(i);
    }
  }
  for (const auto& line : other) std::cerr << line << "\n";
  std::sort(failed.begin(), failed.end());
  if (!failed.empty()) explain_failures(sources, failed, o.levels.front(), target, outcomes);
  // A repeated source shares its first occurrence's outcome.
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const std::size_t first = by_absolute.at(absolute_path(sources[i].path));
    if (first != i) outcomes[i] = outcomes[first];
  }
  return outcomes;
}

}  // namespace pycemit::cli
