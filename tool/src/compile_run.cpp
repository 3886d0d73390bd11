#include "pycemit/compile_run.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "pycemit/discover.h"
#include "pycemit/file_io.h"
#include "pycemit/freshness.h"
#include "pycemit/scan.h"
#include "pycemit/interpreter_cache.h"
#include "pycemit/manifest.h"
#include "pycemit/marshal.h"
#include "pycemit/interpreter_pool.h"
#include "pycemit/interpreter_process.h"

namespace pycemit {
namespace {

// The indices of `scans`, largest source first: the batch's long compiles
// start early, so its end does not wait on one big file while the other
// interpreters idle. Outputs do not depend on the order.
std::vector<std::size_t> largest_first(const std::vector<SourceScan>& scans) {
  std::vector<std::size_t> order(scans.size());
  for (std::size_t j = 0; j < order.size(); ++j) order[j] = j;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return scans[a].source_identity.size > scans[b].source_identity.size;
  });
  return order;
}


// Requests in flight (and queued) per interpreter: enough to keep every interpreter busy
// while the main thread plans, small enough to bound memory by a few sources.
constexpr std::size_t kWindowPerProcess = 4;

// Sources scanned at a time (scan.h): bounds the memory the scans
// hold, and lets compiling start before every source is scanned.
constexpr std::size_t kScanBatch = 512;

// Thrown to end the run early (--fail-fast).
struct StopRun {};

std::optional<std::int64_t> source_date_epoch() {
  const char* text = std::getenv("SOURCE_DATE_EPOCH");
  if (!text || !*text) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0' || v < 0) return std::nullopt;
  return v;
}

std::string describe_failure(const std::string& source, const CompileFailure& f) {
  std::string where = source;
  if (f.line) {
    where += ":" + std::to_string(*f.line);
    if (f.column) where += ":" + std::to_string(*f.column);
  }
  return where + ": " + f.type + ": " + f.message;
}

// A source's bytes and the stat of the same open file (so timestamp headers
// describe exactly the bytes compiled).
struct SourceContent {
  std::string bytes;
  struct stat st {};
};

SourceContent read_source(const std::string& path) {
  SourceContent content;
  content.bytes = read_file(path, &content.st);
  return content;
}

class CompileRun {
 public:
  CompileRun(const CompileOptions& options, InterpreterPool& pool, Reporter& reporter)
      : options_(options), reporter_(reporter), pool_(&pool) {}

  int run(CompileStats* stats_out);

 private:
  // A source with at least one output to compile, waiting for its replies.
  struct Pending {
    PlannedSource plan;
    PycHeaderBytes header{};
    mode_t mode = 0644;
    std::vector<bool> stale;                        // per output
    std::vector<std::optional<std::string>> code;   // per output: marshal bytes
    std::optional<CompileFailure> failure;
    std::vector<CompileWarning> warnings;
    std::size_t remaining = 0;
    FileIdentity source_identity;  // of the source as read for compiling
  };

  void handle_scan(std::size_t index, SourceScan scan);
  void keep_current_outputs(const PlannedSource& plan, const SourceScan& scan);
  std::string cache_context() const;
  void handle_reply(CompileReply reply);
  enum class Placement { Written, Linked, AlreadyLinked, Unchanged };

  void finish_source(Pending& p);
  void write_outputs(Pending& p);
  Placement place_output(const Pending& p, std::size_t k, const std::vector<std::string>& bytes);
  void note_output(const PlannedSource& plan, const PlannedOutput& out, Placement placement, const std::string* bytes);
  void record_output(const PlannedSource& plan, const PlannedOutput& out, std::string_view bytes,
                     const std::string& status);
  void fail_source(const std::string& source, const std::string& message, bool is_compile_failure);
  void prepare_directory(const std::string& dir);
  void sweep_directory(const std::string& dir);
  void write_placeholders(const PlannedSource& plan);

  const CompileOptions& options_;
  Reporter& reporter_;
  Locations locations_;
  InterpreterPool* pool_;
  InterpreterInfo info_;
  marshal::CodeLayout code_layout_ = marshal::CodeLayout::Py311;
  std::map<std::size_t, Pending> pending_;  // by source index
  std::map<std::string, std::string> directory_errors_;  // output directory -> why it cannot be made ("" if made)
  std::set<std::string> swept_dirs_;
  std::unique_ptr<StatCache> cache_;
  std::vector<OutputRecord> records_;
  std::vector<SkippedRecord> skipped_;
  CompileStats stats_;
};

int CompileRun::run(CompileStats* stats_out) {
  const auto started = std::chrono::steady_clock::now();
  locations_ = resolve_locations(options_.locations, options_.layout);
  info_ = learn_interpreter(*pool_);
  if (!info_.known_format) reporter_.warning(unknown_format_warning(info_));
  if (options_.expect_cache_tag && *options_.expect_cache_tag != info_.cache_tag.value_or("None")) {
    throw InterpreterError(info_.executable + " is " + info_.display_name() + " with cache tag " +
                           info_.cache_tag.value_or("None") + ", but the outputs were named for " +
                           *options_.expect_cache_tag);
  }
  code_layout_ = info_.code_layout;
  const int processes_before = pool_->processes_started();

  DiscoverOptions discover_options{locations_.source_root, options_.excludes, locations_.staging_root};
  Discovery discovery = discover_sources(options_.paths, discover_options);
  for (const auto& e : discovery.errors) {
    reporter_.error(e);
    ++stats_.failed;
  }
  stats_.sources = discovery.sources.size();
  reporter_.set_total(discovery.sources.size());

  ScanSettings settings(options_, locations_, info_);
  if (options_.clamp_source_mtime) settings.clamp_mtime_to = source_date_epoch();
  if (options_.stat_cache) {
    cache_ = std::make_unique<StatCache>(cache_context());
    cache_->load();
    if (!options_.force) settings.cache = cache_.get();
  }

  // Check a batch of sources on every core, then queue what is stale; the
  // interpreters compile one batch while the next is scanned.
  const auto& sources = discovery.sources;
  const std::size_t window = kWindowPerProcess * static_cast<std::size_t>(pool_->max_processes());
  try {
    if (options_.fail_fast && stats_.failed > 0) throw StopRun{};
    for (std::size_t start = 0; start < sources.size(); start += kScanBatch) {
      const std::vector<SourceFile> batch(sources.begin() + start,
                                          sources.begin() + std::min(sources.size(), start + kScanBatch));
      std::vector<SourceScan> scans = scan_sources(batch, settings, usable_cores());
      for (std::size_t j : largest_first(scans)) {
        handle_scan(start + j, std::move(scans[j]));
        while (pool_->outstanding() > window) handle_reply(pool_->next_reply());
      }
    }
    while (pool_->outstanding() > 0) handle_reply(pool_->next_reply());
  } catch (const StopRun&) {
    pool_->cancel();  // kills the interpreters; nothing further is written
  }
  stats_.interpreters_started = pool_->processes_started() - processes_before;

  if (cache_) cache_->save();
  if (options_.manifest) write_manifest(*options_.manifest, records_, skipped_);
  if (options_.record) update_record(*options_.record, records_);

  char summary[256];
  std::snprintf(summary, sizeof summary, "pycemit: %zu sources, %zu pycs written, %zu up to date, %zu failed%s",
                stats_.sources, stats_.written, stats_.unchanged, stats_.failed,
                stats_.skipped ? (", " + std::to_string(stats_.skipped) + " skipped").c_str() : "");
  reporter_.summary(summary);
  stats_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (stats_out) *stats_out = stats_;
  return stats_.failed > 0 ? kExitFailures : kExitOk;
}

// Queues the stale outputs of a scanned source; reports everything else.
void CompileRun::handle_scan(std::size_t index, SourceScan scan) {
  if (scan.error) {
    fail_source(scan.plan.source.path, *scan.error, false);
    reporter_.source_done(scan.plan.source.path);
    return;
  }
  for (const auto& out : scan.plan.outputs) sweep_directory(std::string(path_dirname(out.path)));
  Pending p;
  p.plan = std::move(scan.plan);
  bool any_stale = false;
  for (OutputState state : scan.states) {
    p.stale.push_back(options_.force || state != OutputState::Current);
    any_stale = any_stale || p.stale.back();
  }
  if (!any_stale) {
    keep_current_outputs(p.plan, scan);
    reporter_.source_done(p.plan.source.path);
    return;
  }
  // Hardlinking needs every level's bytes, so a stale source recompiles all levels.
  if (options_.hardlink_dupes) std::fill(p.stale.begin(), p.stale.end(), true);

  // Read again: the header must describe exactly the bytes compiled.
  SourceContent content;
  try {
    content = read_source(p.plan.source.path);
  } catch (const FileError& e) {
    fail_source(p.plan.source.path, e.what(), false);
    reporter_.source_done(p.plan.source.path);
    return;
  }
  p.header = expected_header(info_, options_.mode, content.bytes, content.st);
  p.mode = pyc_mode_for_source(content.st.st_mode);
  p.source_identity = identity_of(content.st);
  p.code.resize(p.plan.outputs.size());
  for (std::size_t k = 0; k < p.plan.outputs.size(); ++k) {
    if (!p.stale[k]) continue;
    CompileRequest req;
    req.id = index * 4 + k;  // at most 3 levels per source
    req.optimize = p.plan.outputs[k].optimize;
    req.embedded_path = p.plan.embedded_path;
    req.source = content.bytes;
    pool_->submit(std::move(req));
    ++p.remaining;
  }
  pending_.emplace(index, std::move(p));
}

void CompileRun::handle_reply(CompileReply reply) {
  auto it = pending_.find(reply.id / 4);
  if (it == pending_.end()) throw std::logic_error("reply for an unknown request");
  Pending& p = it->second;
  const std::size_t k = reply.id % 4;
  if (reply.code) {
    p.code[k] = std::move(reply.code);
  } else if (!p.failure) {
    p.failure = reply.failure;
  }
  for (auto& w : reply.warnings) {
    const bool seen = std::any_of(p.warnings.begin(), p.warnings.end(), [&](const CompileWarning& x) {
      return x.line == w.line && x.message == w.message && x.category == w.category;
    });
    if (!seen) p.warnings.push_back(std::move(w));
  }
  if (--p.remaining == 0) {
    Pending done = std::move(p);
    pending_.erase(it);
    finish_source(done);
  }
}

void CompileRun::finish_source(Pending& p) {
  const std::string& source = p.plan.source.path;
  for (const auto& w : p.warnings) {
    reporter_.warning(source + ":" + std::to_string(w.line) + ": " + w.category + ": " + w.message);
  }
  if (p.failure) {
    const bool interpreter_problem = p.failure->type == "InterpreterDied" || p.failure->type == "Timeout";
    fail_source(source, describe_failure(source, *p.failure), !interpreter_problem);
    if (!interpreter_problem && options_.on_error != OnError::Fail && options_.placeholder_for_skipped) {
      write_placeholders(p.plan);
    }
  } else {
    write_outputs(p);
  }
  reporter_.source_done(source);
}

void CompileRun::write_outputs(Pending& p) {
  const std::string& source = p.plan.source.path;
  std::vector<std::string> bytes(p.plan.outputs.size());
  try {
    for (std::size_t k = 0; k < p.plan.outputs.size(); ++k) {
      if (!p.stale[k]) continue;
      const std::string body = marshal::canonicalize(*p.code[k], code_layout_);
      // What import needs: a code object, compiled for this file.
      if (marshal::code_filename(body, code_layout_) != fsdecoded_utf8(p.plan.embedded_path)) {
        throw marshal::MarshalError("the code object is not the one compiled for this file", 0);
      }
      bytes[k] = as_chars(p.header);
      bytes[k] += body;
    }
  } catch (const marshal::MarshalError& e) {
    fail_source(source, source + ": the interpreter's reply is not usable: " + e.what(), false);
    return;
  }

  std::vector<std::string> paths;
  std::vector<bool> written;
  bool failed = false;
  for (std::size_t k = 0; k < p.plan.outputs.size(); ++k) {
    const PlannedOutput& out = p.plan.outputs[k];
    paths.push_back(out.path);
    written.push_back(p.stale[k]);
    if (!p.stale[k]) {
      note_output(p.plan, out, Placement::Unchanged, nullptr);
      continue;
    }
    try {
      note_output(p.plan, out, place_output(p, k, bytes), &bytes[k]);
    } catch (const FileError& e) {
      fail_source(source, e.what(), false);
      failed = true;
    }
  }
  if (cache_ && !failed) cache_->record(p.plan.source.absolute, p.source_identity, paths, written);
}

// Puts bytes[k] at output k: a hardlink to an earlier level with identical
// bytes (--hardlink-dupes), nothing if the file already holds them, else an
// atomic write.
CompileRun::Placement CompileRun::place_output(const Pending& p, std::size_t k, const std::vector<std::string>& bytes) {
  const PlannedOutput& out = p.plan.outputs[k];
  prepare_directory(std::string(path_dirname(out.path)));
  refuse_non_regular_output(out.path);
  for (std::size_t j = 0; options_.hardlink_dupes && j < k; ++j) {
    if (bytes[j] != bytes[k]) continue;
    const std::string& twin = p.plan.outputs[j].path;
    auto a = stat_path(twin), b = stat_path(out.path);
    if (a && b && a->st_ino == b->st_ino && a->st_dev == b->st_dev) return Placement::AlreadyLinked;
    link_file_atomically(twin, out.path);
    return Placement::Linked;
  }
  if (!options_.force && read_output_file(out.path) == bytes[k]) return Placement::Unchanged;
  write_file_atomically(out.path, bytes[k], p.mode);
  return Placement::Written;
}

// Counts, reports and records one output. `bytes`: its content, or nullptr to
// read it from disk when a manifest or RECORD needs it.
void CompileRun::note_output(const PlannedSource& plan, const PlannedOutput& out, Placement placement,
                             const std::string* bytes) {
  // What this run did to the file: "written", "linked" (made a hardlink to
  // another level's file now), or "unchanged" (already right, linked or not).
  const char* what = placement == Placement::Written  ? "written"
                     : placement == Placement::Linked ? "linked"
                                                      : "unchanged";
  (placement == Placement::Written || placement == Placement::Linked ? stats_.written : stats_.unchanged)++;
  reporter_.file(placement == Placement::Written ? "wrote" : what, out.path);
  if (options_.manifest || options_.record) record_output(plan, out, bytes ? *bytes : read_file(out.path), what);
}

void CompileRun::record_output(const PlannedSource& plan, const PlannedOutput& out, std::string_view bytes,
                               const std::string& status) {
  OutputRecord r;
  r.source = plan.source.path;
  r.path = out.path;
  r.runtime_path = out.runtime_path;
  r.cache_tag = info_.cache_tag.value_or("");
  r.optimize = out.optimize;
  r.mode = options_.mode;
  r.size = bytes.size();
  r.sha256 = sha256_hex(bytes);
  r.status = status;
  records_.push_back(std::move(r));
}

// Every output of `plan` is current. With --hardlink-dupes, levels with
// identical bytes that are separate files (written by a run without the flag)
// are linked now; no interpreter is needed for that. Outputs the stat cache
// vouched for were left as that run left them.
void CompileRun::keep_current_outputs(const PlannedSource& plan, const SourceScan& scan) {
  const bool relink = options_.hardlink_dupes && !scan.from_cache;
  std::vector<std::optional<std::string>> bytes(plan.outputs.size());
  std::vector<std::string> paths;
  bool failed = false;
  for (std::size_t k = 0; k < plan.outputs.size(); ++k) {
    const PlannedOutput& out = plan.outputs[k];
    paths.push_back(out.path);
    Placement placement = Placement::Unchanged;
    if (relink) bytes[k] = read_output_file(out.path);
    for (std::size_t j = 0; relink && j < k; ++j) {
      if (!bytes[k] || bytes[j] != bytes[k]) continue;
      auto a = stat_path(plan.outputs[j].path), b = stat_path(out.path);
      const bool linked = a && b && a->st_ino == b->st_ino && a->st_dev == b->st_dev;
      try {
        if (!linked) link_file_atomically(plan.outputs[j].path, out.path);
      } catch (const FileError& e) {
        fail_source(plan.source.path, e.what(), false);
        failed = true;
        break;
      }
      placement = linked ? Placement::AlreadyLinked : Placement::Linked;
      break;
    }
    note_output(plan, out, placement, bytes[k] ? &*bytes[k] : nullptr);
  }
  if (!cache_ || failed) return;
  if (scan.from_cache) {
    cache_->keep(plan.source.absolute);
  } else {
    cache_->record(plan.source.absolute, scan.source_identity, paths, std::vector<bool>(paths.size(), false));
  }
}

// Everything besides the sources that decides the outputs' names and bytes:
// runs that share it share a stat cache.
std::string CompileRun::cache_context() const {
  std::string c = "canonical form 1\n";
  c += info_.executable + "\n" + info_.cache_tag.value_or("-") + "\n" + std::to_string(info_.magic_number()) + "\n";
  c += to_string(options_.mode) + "\n" + to_string(options_.layout) + "\n";
  for (int level : options_.levels) c += std::to_string(level) + " ";
  c += "\n" + locations_.source_root + "\n" + locations_.install_root + "\n" + locations_.staging_root.value_or("-") +
       "\n" + locations_.output_root.value_or("-") + "\n" + locations_.pycache_prefix.value_or("-") + "\n" +
       locations_.embed_prefix.value_or("-") + "\n" + (locations_.embed_run_time_path ? "run-time" : "relative") +
       "\n" + (options_.hardlink_dupes ? "hardlinks" : "copies") + "\n";
  for (const auto& path : options_.paths) c += absolute_path(path) + "\n";
  return c;
}

void CompileRun::fail_source(const std::string& source, const std::string& message, bool is_compile_failure) {
  const OnError policy = is_compile_failure ? options_.on_error : OnError::Fail;
  switch (policy) {
    case OnError::Fail:
      reporter_.error(message);
      ++stats_.failed;
      break;
    case OnError::Warn:
      reporter_.warning("warning: " + message);
      ++stats_.skipped;
      break;
    case OnError::Skip:
      reporter_.warning("skipped: " + message);
      ++stats_.skipped;
      break;
  }
  skipped_.push_back({source, message});
  if (policy == OnError::Fail && options_.fail_fast) throw StopRun{};
}

// An empty file at each output that does not exist: a build system that
// declared the outputs gets them all, and the interpreter rejects an empty pyc
// ("bad magic number") and compiles the source instead. Existing files stay.
void CompileRun::write_placeholders(const PlannedSource& plan) {
  for (const auto& out : plan.outputs) {
    try {
      if (lstat_path(out.path)) continue;
      prepare_directory(std::string(path_dirname(out.path)));
      write_file_atomically(out.path, "", 0644);
      reporter_.file("placeholder", out.path);
    } catch (const FileError& e) {
      fail_source(plan.source.path, e.what(), false);
    }
  }
}

// Creates an output directory, once per run: a directory that cannot be made
// gives every later output in it the same error.
void CompileRun::prepare_directory(const std::string& dir) {
  auto [it, first] = directory_errors_.emplace(dir, std::string());
  if (first) {
    try {
      make_directories(dir);
    } catch (const FileError& e) {
      it->second = e.what();
    }
  }
  if (!it->second.empty()) throw FileError(it->second);
}

// Removes, once per run, what a killed earlier run left in an output
// directory (temporary files), whether or not this run writes there.
void CompileRun::sweep_directory(const std::string& dir) {
  if (swept_dirs_.insert(dir).second) remove_stale_temporaries(dir);
}

}  // namespace

void write_stats(const std::string& path, const CompileStats& stats) {
  rusage self{}, children{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  const nlohmann::json doc = {
      {"sources", stats.sources},
      {"written", stats.written},
      {"unchanged", stats.unchanged},
      {"failed", stats.failed},
      {"skipped", stats.skipped},
      {"interpreters_started", stats.interpreters_started},
      {"seconds", stats.seconds},
      {"peak_rss_kib", self.ru_maxrss},
      {"interpreter_peak_rss_kib", children.ru_maxrss},
  };
  write_file_atomically(path, doc.dump(2) + "\n", 0644);
}

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

void validate_options(const CompileOptions& o) {
  if (o.levels.empty()) throw PlanError("no optimization level given");
  std::set<int> seen;
  for (int level : o.levels) {
    if (level < 0 || level > 2) throw PlanError("--optimize " + std::to_string(level) + ": levels are 0, 1 and 2");
    if (!seen.insert(level).second) throw PlanError("--optimize " + std::to_string(level) + " given twice");
  }
  if (o.layout == Layout::Sourceless && o.levels.size() != 1) {
    throw PlanError("--layout sourceless takes one optimization level (its file name carries none)");
  }
  if (o.jobs < 0) throw PlanError("--jobs must be 0 (all cores) or more");
  if (o.timeout.count() <= 0) throw PlanError("--timeout must be positive");
  if (o.clamp_source_mtime) {
    if (o.mode != InvalidationMode::Timestamp) throw PlanError("--clamp-source-mtime applies to --invalidation-mode timestamp");
    if (!source_date_epoch()) throw PlanError("--clamp-source-mtime needs SOURCE_DATE_EPOCH set to a number of seconds");
  }
  if (o.paths.empty()) throw PlanError("no PATH given");
}

int run_compile(const CompileOptions& options, Reporter& reporter, CompileStats* stats) {
  validate_options(options);
  CompileStats counts;
  int status;
  {
    InterpreterPool pool(resolve_executable(options.python), options.jobs > 0 ? options.jobs : usable_cores(),
                    options.timeout);
    status = CompileRun(options, pool, reporter).run(&counts);
  }  // the interpreters are reaped here, so their peak memory is known
  if (options.stats) write_stats(*options.stats, counts);
  if (stats) *stats = counts;
  return status;
}

int run_compile(const CompileOptions& options, InterpreterPool& pool, Reporter& reporter, CompileStats* stats) {
  validate_options(options);
  CompileStats counts;
  const int status = CompileRun(options, pool, reporter).run(&counts);
  if (options.stats) write_stats(*options.stats, counts);
  if (stats) *stats = counts;
  return status;
}

}  // namespace pycemit
