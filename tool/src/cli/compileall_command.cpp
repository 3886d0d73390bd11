// `pycemit compileall`: CPython's `python -m compileall` command line
// (Lib/compileall.py, 3.9 and later) on the pycemit pipeline. The walk, -l/-r,
// -x, -e, the embedded paths of -d/-s/-p, the `Listing`/`Compiling`/error lines
// at each quiet level and the exit statuses are compileall's; compiling,
// freshness and writing are the pipeline's (python_tools.h).
#include <sys/stat.h>

#include <dirent.h>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "errors.h"
#include "pycemit/discover.h"
#include "pycemit/interpreter.h"
#include "pycemit/interpreter_cache.h"
#include "pycemit/interpreter_pool.h"
#include "pycemit/interpreter_process.h"
#include "pycemit/naming.h"
#include "python_tools.h"

namespace pycemit::cli {
namespace {

constexpr const char* kUsage =
    "usage: pycemit compileall [-h] [-l] [-r RECURSION] [-f] [-q] [-b] [-d DESTDIR] [-s STRIPDIR]\n"
    "                          [-p PREPENDDIR] [-x REGEXP] [-i FILE] [-j WORKERS]\n"
    "                          [--invalidation-mode {checked-hash,timestamp,unchecked-hash}]\n"
    "                          [-o OPT_LEVELS] [-e DIR] [--hardlink-dupes] [--python EXE] [--stats FILE]\n"
    "                          [FILE|DIR ...]\n";

constexpr const char* kHelp =
    "\nByte-compile Python sources as `python -m compileall` does (same options, output and exit\n"
    "statuses), with pycemit's reproducible pycs; current pycs in any invalidation mode are left\n"
    "alone, starting no interpreter.\n\n"
    "positional arguments:\n"
    "  FILE|DIR              files and directories to compile; none: the target's sys.path, as -l\n\n"
    "options:\n"
    "  -h, --help            show this help message and exit\n"
    "  -l                    don't recurse into subdirectories\n"
    "  -r RECURSION          maximum recursion level (wins over -l)\n"
    "  -f                    rewrite pycs even when they are current\n"
    "  -q                    output only error messages; -qq suppresses them as well\n"
    "  -b                    legacy (pre-PEP 3147) pyc locations: <source>c\n"
    "  -d DESTDIR            directory prepended to the embedded path (co_filename)\n"
    "  -s STRIPDIR           part of the path to left-strip for the embedded path (not with -d)\n"
    "  -p PREPENDDIR         path prepended after -s (not with -d)\n"
    "  -x REGEXP             skip files whose path the regular expression is found in\n"
    "  -i FILE               add the files and directories listed in FILE (-: stdin)\n"
    "  -j, --workers WORKERS interpreter processes (0: one per usable core)\n"
    "  --invalidation-mode {checked-hash,timestamp,unchecked-hash}\n"
    "                        default: checked-hash if SOURCE_DATE_EPOCH is set, else timestamp\n"
    "  -o OPT_LEVELS         optimization level; repeatable (default: the interpreter's, -O)\n"
    "  -e DIR                ignore symlinks pointing outside of DIR\n"
    "  --hardlink-dupes      hardlink pycs of different levels whose bytes are identical\n"
    "  --python EXE          target interpreter (default: python3)\n"
    "  --stats FILE          write pycemit's counts of the run as JSON\n";

struct UsageError {
  std::string message;
};

// Python's int() of a command-line word: surrounding whitespace, a sign, digits
// with single underscores between them.
std::optional<long long> python_int(const std::string& text) {
  std::size_t b = text.find_first_not_of(" \t\n\r\f\v");
  if (b == std::string::npos) return std::nullopt;
  std::size_t e = text.find_last_not_of(" \t\n\r\f\v");
  std::string s = text.substr(b, e - b + 1);
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.erase(0, 1);
  }
  if (s.empty() || s.front() == '_' || s.back() == '_') return std::nullopt;
  long long v = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (s[i - 1] == '_') return std::nullopt;
      continue;
    }
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    if (v > (LLONG_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return negative ? -v : v;
}

struct Arguments {
  std::optional<int> maxlevels;  // -l: 0
  std::optional<int> recursion;  // -r
  bool force = false;
  int quiet = 0;
  bool legacy = false;
  std::optional<std::string> ddir, stripdir, prependdir, rx, flist, limit_sl_dest;
  std::vector<std::string> dests;
  int workers = 1;
  std::optional<std::string> invalidation_mode;
  std::vector<int> opt_levels;
  bool hardlink_dupes = false;
  std::optional<std::string> python, stats;
  bool help = false;
};

// argparse's rules for compileall's parser: short options clustered (-qq, -fq)
// or with their value attached (-j0, "-o 1"), long options abbreviated to any
// unique prefix, --opt=value, "--" ending options, a value never taken from a
// word that looks like an option (unless a negative number).
Arguments parse_arguments(const std::vector<std::string>& args) {
  Arguments a;
  const std::vector<std::string> longs = {"--workers", "--invalidation-mode", "--hardlink-dupes", "--help", "--python",
                                          "--stats"};
  auto looks_like_option = [](const std::string& w) {
    if (w.size() < 2 || w[0] != '-') return false;
    return !python_int(w).has_value() &&
           !(w.size() > 1 && (std::isdigit(static_cast<unsigned char>(w[1])) || (w[1] == '.' && w.size() > 2)));
  };
  auto to_int = [](const std::string& option, const std::string& value) {
    const auto v = python_int(value);
    if (!v || *v < INT_MIN || *v > INT_MAX) {
      throw UsageError{"argument " + option + ": invalid int value: " + python_repr(value)};
    }
    return static_cast<int>(*v);
  };
  auto apply = [&](const std::string& option, const std::optional<std::string>& value) {
    const std::string& v = *value;
    if (option == "-r") a.recursion = to_int("-r", v);
    if (option == "-d") a.ddir = v;
    if (option == "-s") a.stripdir = v;
    if (option == "-p") a.prependdir = v;
    if (option == "-x") a.rx = v;
    if (option == "-i") a.flist = v;
    if (option == "-j" || option == "--workers") a.workers = to_int("-j/--workers", v);
    if (option == "-o") a.opt_levels.push_back(to_int("-o", v));
    if (option == "-e") a.limit_sl_dest = v;
    if (option == "--python") a.python = v;
    if (option == "--stats") a.stats = v;
    if (option == "--invalidation-mode") {
      if (v != "checked-hash" && v != "timestamp" && v != "unchecked-hash") {
        throw UsageError{"argument --invalidation-mode: invalid choice: " + python_repr(v) +
                         " (choose from 'checked-hash', 'timestamp', 'unchecked-hash')"};
      }
      a.invalidation_mode = v;
    }
  };
  const std::string value_shorts = "rdspxijoe";
  const std::string flag_shorts = "lfqbh";
  std::vector<std::string> unrecognized;
  bool only_positional = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& w = args[i];
    auto next_value = [&](const std::string& option) -> std::string {
      if (i + 1 >= args.size() || looks_like_option(args[i + 1]) || args[i + 1] == "--") {
        throw UsageError{"argument " + option + ": expected one argument"};
      }
      return args[++i];
    };
    if (only_positional || w.size() < 2 || w[0] != '-' || !looks_like_option(w)) {
      a.dests.push_back(w);
      continue;
    }
    if (w == "--") {
      only_positional = true;
      continue;
    }
    if (w.rfind("--", 0) == 0) {
      const auto eq = w.find('=');
      const std::string name = w.substr(0, eq);
      std::vector<std::string> matches;
      for (const auto& l : longs) {
        if (l == name) matches = {l};
        if (l == name) break;
        if (l.rfind(name, 0) == 0) matches.push_back(l);
      }
      if (matches.empty()) {
        unrecognized.push_back(w);
        continue;
      }
      if (matches.size() > 1) {
        std::string list;
        for (const auto& m : matches) list += (list.empty() ? "" : ", ") + m;
        throw UsageError{"ambiguous option: " + name + " could match " + list};
      }
      const std::string& option = matches[0];
      if (option == "--help" || option == "--hardlink-dupes") {
        if (eq != std::string::npos)
          throw UsageError{"argument " + option + ": ignored explicit argument " + python_repr(w.substr(eq + 1))};
        (option == "--help" ? a.help : a.hardlink_dupes) = true;
        continue;
      }
      apply(option, eq != std::string::npos ? w.substr(eq + 1) : next_value(option));
      continue;
    }
    // A cluster of short options.
    std::size_t k = 1;
    while (k < w.size()) {
      const char c = w[k];
      const std::string option = std::string("-") + c;
      if (flag_shorts.find(c) != std::string::npos) {
        if (c == 'l') a.maxlevels = 0;
        if (c == 'f') a.force = true;
        if (c == 'q') ++a.quiet;
        if (c == 'b') a.legacy = true;
        if (c == 'h') a.help = true;
        ++k;
        continue;
      }
      if (value_shorts.find(c) != std::string::npos) {
        std::string rest = w.substr(k + 1);
        if (!rest.empty() && rest[0] == '=') rest.erase(0, 1);
        apply(option, rest.empty() ? next_value(option) : rest);
        break;
      }
      unrecognized.push_back(k == 1 ? w : "-" + w.substr(k));
      break;
    }
  }
  if (a.help) return a;
  if (!unrecognized.empty()) {
    std::string list;
    for (const auto& u : unrecognized) list += (list.empty() ? "" : " ") + u;
    throw UsageError{"unrecognized arguments: " + list};
  }
  return a;
}

// os.path.join of two POSIX paths.
std::string py_join(const std::string& a, const std::string& b) {
  if (!b.empty() && b[0] == '/') return b;
  if (a.empty() || a.back() == '/') return a + b;
  return a + "/" + b;
}

std::vector<std::string> split_sep(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

std::string join_all(const std::vector<std::string>& parts) {
  std::string r;
  bool first = true;
  for (const auto& p : parts) {
    r = first ? p : py_join(r, p);
    first = false;
  }
  return r;
}

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool is_file(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool is_link(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

// Path.resolve() (non-strict): the real path, or the lexical absolute path when it does not exist.
std::string resolved(const std::string& p) {
  char* real = ::realpath(p.c_str(), nullptr);
  if (!real) return absolute_path(p);
  std::string r = real;
  std::free(real);
  return r;
}

// What compileall prints, in its order, for a run without workers.
struct Event {
  enum Kind { Text, File } kind;
  std::string text;        // Text: a line (without '\n'), printed at `min_quiet` or below
  int max_quiet = 0;       // printed when quiet <= max_quiet
  std::size_t source = 0;  // File: index into the sources
};

class Compileall {
 public:
  Compileall(const Arguments& a, int minor) : a_(a), minor_(minor) {
    if (a.rx) rx_ = std::regex(*a.rx, std::regex::ECMAScript);
  }

  // compileall.compile_dir: with -d, the directory becomes stripdir and DESTDIR the prependdir.
  void compile_dir(const std::string& dir, int maxlevels, std::optional<std::string> ddir,
                   std::optional<std::string> stripdir, std::optional<std::string> prependdir) {
    if (ddir) {
      stripdir = dir;
      prependdir = ddir;
      ddir.reset();
    }
    walk(dir, maxlevels, ddir, stripdir, prependdir);
  }

  // compileall.compile_file, up to the point of compiling.
  void compile_file(const std::string& fullname, const std::optional<std::string>& ddir,
                    const std::optional<std::string>& stripdir, const std::optional<std::string>& prependdir) {
    const std::string name(path_basename(fullname));
    std::optional<std::string> dfile;
    if (ddir) dfile = py_join(*ddir, name);
    if (stripdir) {
      const auto full_parts = split_sep(fullname);
      const auto strip_parts = split_sep(*stripdir);
      if (minor_ >= 13) {
        // 3.13 (gh-105931): stripdir must be a prefix of the path, component by component.
        const bool prefix = strip_parts.size() <= full_parts.size() &&
                            std::equal(strip_parts.begin(), strip_parts.end(), full_parts.begin());
        if (!prefix) {
          events_.push_back({Event::Text,
                             "The stripdir path " + python_repr(*stripdir) + " is not a valid prefix for source path " +
                                 python_repr(fullname) + "; ignoring",
                             1, 0});
        } else {
          dfile = join_all({full_parts.begin() + static_cast<std::ptrdiff_t>(strip_parts.size()), full_parts.end()});
        }
      } else {
        // Before 3.13: each component equal to the stripdir's at the same place is
        // removed (its first occurrence: list.remove).
        std::vector<std::string> parts = full_parts;
        for (std::size_t k = 0; k < strip_parts.size() && k < full_parts.size(); ++k) {
          if (strip_parts[k] == full_parts[k]) {
            const auto it = std::find(parts.begin(), parts.end(), strip_parts[k]);
            if (it != parts.end()) parts.erase(it);
          }
        }
        dfile = join_all(parts);
      }
    }
    if (prependdir) dfile = py_join(*prependdir, dfile ? *dfile : fullname);
    if (rx_ && std::regex_search(fullname, *rx_)) return;
    if (a_.limit_sl_dest && is_link(fullname)) {
      const std::string limit = resolved(*a_.limit_sl_dest);
      const std::string target = resolved(fullname);
      const auto rel = relative_to(target, limit);
      if (!rel || rel->empty()) return;  // not below DIR: ignored
    }
    if (!is_file(fullname)) return;
    if (name.size() < 3 || name.compare(name.size() - 3, 3, ".py") != 0) return;
    events_.push_back({Event::File, "", 0, sources_.size()});
    sources_.push_back({fullname, dfile});
  }

  std::vector<Event> events_;
  std::vector<ToolSource> sources_;

 private:
  void walk(const std::string& dir, int maxlevels, const std::optional<std::string>& ddir,
            const std::optional<std::string>& stripdir, const std::optional<std::string>& prependdir) {
    events_.push_back({Event::Text, "Listing " + python_repr(dir) + "...", 0, 0});
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.empty() ? "." : dir.c_str());
    if (!d || !is_dir(dir.empty() ? "." : dir)) {
      if (d) ::closedir(d);
      events_.push_back({Event::Text, "Can't list " + python_repr(dir), 1, 0});
    } else {
      while (const dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
      }
      ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      if (n == "__pycache__") continue;
      const std::string fullname = py_join(dir, n);
      if (!is_dir(fullname)) {
        compile_file(fullname, ddir, stripdir, prependdir);
      } else if (maxlevels > 0 && !is_link(fullname)) {
        walk(fullname, maxlevels - 1, ddir, stripdir, prependdir);
      }
    }
  }

  const Arguments& a_;
  int minor_;
  std::optional<std::regex> rx_;
};

// The target's sys.path as `python -m compileall` sees it: its first entry the
// working directory (where -c puts '').
std::vector<std::string> target_sys_path(const TargetInterpreter& target) {
  std::vector<std::string> argv{resolve_executable(target.python)};
  argv.insert(argv.end(), target.interpreter_options.begin(), target.interpreter_options.end());
  argv.insert(argv.end(), {"-c",
                           "import os, sys\n"
                           "p = list(sys.path)\n"
                           "if p and p[0] == '': p[0] = os.getcwd()\n"
                           "for d in p: print(os.fsencode(d).hex())\n"});
  int status = 0;
  const std::string text = run_and_capture(argv, "", status);
  if (status != 0) throw InterpreterError(target.python + ": cannot tell its sys.path");
  std::vector<std::string> dirs;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::string bytes;
    for (std::size_t i = 0; i + 1 < line.size(); i += 2) {
      bytes += static_cast<char>(std::stoi(line.substr(i, 2), nullptr, 16));
    }
    dirs.push_back(bytes);
  }
  return dirs;
}

std::optional<InvalidationMode> mode_named(const std::optional<std::string>& name) {
  if (!name) return std::nullopt;
  if (*name == "timestamp") return InvalidationMode::Timestamp;
  if (*name == "checked-hash") return InvalidationMode::CheckedHash;
  return InvalidationMode::UncheckedHash;
}

int compileall_main(const std::vector<std::string>& args, TargetInterpreter target) {
  Arguments a;
  try {
    a = parse_arguments(args);
    if (a.help) {
      std::cout << kUsage << kHelp;
      return 0;
    }
    if (a.opt_levels.size() == 1 && a.hardlink_dupes) {
      throw UsageError{"Hardlinking of duplicated bytecode makes sense only for more than one optimization level."};
    }
    if (a.ddir && (a.stripdir || a.prependdir)) throw UsageError{"-d cannot be used in combination with -s or -p"};
    if (a.rx) {
      try {
        std::regex check(*a.rx, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw UsageError{"argument -x: bad regular expression " + python_repr(*a.rx) + ": " + e.what()};
      }
    }
    for (int level : a.opt_levels) {
      if (level < -1 || level > 2) throw UsageError{"argument -o: " + std::to_string(level) + " is not -1, 0, 1 or 2"};
    }
  } catch (const UsageError& e) {
    std::cerr << kUsage << "pycemit compileall: error: " << e.message << "\n";
    return kExitUsage;
  }
  if (a.python) target.python = *a.python;
  if (a.limit_sl_dest && a.limit_sl_dest->empty()) a.limit_sl_dest.reset();
  const int maxlevels = a.recursion ? *a.recursion : a.maxlevels ? *a.maxlevels : 1000;  // sys.getrecursionlimit()

  std::vector<std::string> dests = a.dests;
  if (a.flist) {
    std::istream* in = &std::cin;
    std::ifstream file;
    if (*a.flist != "-") {
      file.open(*a.flist);
      in = &file;
    }
    if (!*in) {
      if (a.quiet < 2) std::cout << "Error reading file list " << *a.flist << "\n";
      return kExitFailures;
    }
    std::string line;
    while (std::getline(*in, line)) {
      const auto b = line.find_first_not_of(" \t\r\f\v");
      const auto e = line.find_last_not_of(" \t\r\f\v");
      dests.push_back(b == std::string::npos ? std::string() : line.substr(b, e - b + 1));
    }
  }

  const int minor = target_minor(target);
  Compileall run(a, minor);
  std::vector<int> levels;
  for (int level : a.opt_levels) levels.push_back(level < 0 ? target.flags_optimize : level);
  bool legacy = a.legacy;
  if (!dests.empty()) {
    for (const auto& dest : dests) {
      if (is_file(dest)) {
        run.compile_file(dest, a.ddir, a.stripdir, a.prependdir);
      } else {
        run.compile_dir(dest, maxlevels, a.ddir, a.stripdir, a.prependdir);
      }
    }
  } else {
    // compile_path: each sys.path directory without recursion; -o, -x, -d/-s/-p, -e do not apply.
    Arguments plain;
    plain.quiet = a.quiet;
    Compileall path_run(plain, minor);
    for (const auto& dir : target_sys_path(target)) {
      if (dir.empty() || dir == ".") {
        path_run.events_.push_back({Event::Text, "Skipping current directory", 1, 0});
      } else {
        path_run.compile_dir(dir, 0, std::nullopt, std::nullopt, std::nullopt);
      }
    }
    run.events_ = std::move(path_run.events_);
    run.sources_ = std::move(path_run.sources_);
    levels.clear();
  }

  ToolSettings settings;
  settings.levels = levels;
  settings.legacy = legacy;
  settings.mode = mode_named(a.invalidation_mode);
  settings.force = a.force;
  settings.jobs = a.workers < 0 ? 1 : a.workers;
  settings.hardlink_dupes = a.hardlink_dupes;
  settings.stats = a.stats;
  const std::vector<ToolOutcome> outcomes = run_tool_pipeline(run.sources_, settings, target);

  bool success = true;
  std::set<std::string> printed;  // a file named twice is compiled once: the second time it is current
  std::string out;
  for (const auto& e : run.events_) {
    if (e.kind == Event::Text) {
      if (a.quiet <= e.max_quiet) out += e.text + "\n";
      continue;
    }
    const ToolOutcome& o = outcomes[e.source];
    if (o.failed) success = false;
    const std::string& fullname = run.sources_[e.source].path;
    if (!o.compiled || !printed.insert(absolute_path(fullname)).second) continue;
    if (a.quiet == 0) out += "Compiling " + python_repr(fullname) + "...\n";
    if (!o.failed || a.quiet >= 2) continue;
    out += a.quiet ? "*** Error compiling " + python_repr(fullname) + "...\n" : std::string("*** ");
    out += (o.error_class.empty() ? o.message : o.error_class + ": " + o.message) + "\n";
  }
  std::cout << out << std::flush;
  return success ? kExitOk : kExitFailures;
}

}  // namespace

int run_compileall(const std::vector<std::string>& args, const TargetInterpreter& target) {
  return compileall_main(args, target);
}

Command add_compileall_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("compileall", "CPython's `python -m compileall` command line, with reproducible pycs");
  cmd->prefix_command();
  cmd->set_help_flag();
  cmd->allow_extras();
  return {cmd, [cmd] { return run_compileall(cmd->remaining(), TargetInterpreter{}); }};
}

}  // namespace pycemit::cli
