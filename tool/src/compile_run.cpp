#include "pycemit/compile_run.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "pycemit/compile_cache_entry.h"
#include "pycemit/discover.h"
#include "pycemit/file_io.h"
#include "pycemit/freshness.h"
#include "pycemit/interpreter_cache.h"
#include "pycemit/interpreter_pool.h"
#include "pycemit/interpreter_process.h"
#include "pycemit/manifest.h"
#include "pycemit/parallel.h"

namespace pycemit {
namespace {

// Requests in flight (and queued) per interpreter process: enough to keep every
// process busy while the main thread scans, small enough to bound memory by a
// few sources.
constexpr std::size_t kWindowPerProcess = 4;

// Sources scanned at a time (scan.h): bounds the memory the scans hold, and
// lets compiling start before every source is scanned.
constexpr std::size_t kScanBatch = 512;

// Thrown to end the run early (--fail-fast).
struct StopRun {};

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

std::string describe_failure(const std::string& source, const CompileFailure& f) {
  std::string where = source;
  if (f.line) {
    where += ":" + std::to_string(*f.line);
    if (f.column) where += ":" + std::to_string(*f.column);
  }
  if (f.type == CompileFailure::kUnusableReply) return where + ": " + f.message;
  return where + ": " + f.type + ": " + f.message;
}

std::vector<std::string> output_paths(const PlannedSource& plan) {
  std::vector<std::string> paths;
  for (const auto& out : plan.outputs) paths.push_back(out.path);
  return paths;
}

}  // namespace

CompileRun::CompileRun(const CompileOptions& options, const InterpreterInfo& interpreter, Compiler& compiler,
                       FileSystem& fs, Reporter& reporter)
    : options_(options),
      info_(interpreter),
      compiler_(compiler),
      reporter_(reporter),
      writer_(fs, options.force, options.hardlink_dupes),
      record_(options, interpreter.cache_tag.value_or(""), reporter) {}

int CompileRun::run(CompileStats* stats_out) {
  const auto started = std::chrono::steady_clock::now();
  CompileStats& stats = record_.stats();
  locations_ = resolve_locations(options_.locations, options_.layout);
  if (!info_.known_format) reporter_.warning(unknown_format_warning(info_));
  if (options_.expect_cache_tag && *options_.expect_cache_tag != info_.cache_tag.value_or("None")) {
    throw InterpreterError(info_.executable + " is " + info_.display_name() + " with cache tag " +
                           info_.cache_tag.value_or("None") + ", but the outputs were named for " +
                           *options_.expect_cache_tag);
  }
  code_layout_ = info_.code_layout;
  verify_ = options_.verify.value_or(!info_.known_format);
  const int processes_before = compiler_.processes_started();

  const Discovery discovery = discover_sources(options_, locations_);
  for (const auto& e : discovery.errors) record_.error(e);
  stats.sources = discovery.sources.size();
  reporter_.set_total(discovery.sources.size());

  ScanSettings settings(options_, locations_, info_);
  if (options_.clamp_source_mtime) settings.clamp_mtime_to = source_date_epoch();
  if (options_.stat_cache) {
    cache_ = std::make_unique<StatCache>(stat_cache_context(options_, locations_, info_));
    cache_->load();
    if (!options_.force) settings.cache = cache_.get();
  }
  if (options_.cache.enabled()) {
    compile_cache_ = std::make_unique<CompileCache>(options_.cache, code_layout_, reporter_, stats, usable_cores());
  }

  // Scan a batch of sources on every core, then queue what is stale; the
  // interpreters compile one batch while the next is scanned.
  const auto& sources = discovery.sources;
  const std::size_t window = kWindowPerProcess * static_cast<std::size_t>(std::max(1, compiler_.max_processes()));
  try {
    if (options_.fail_fast && stats.failed > 0) throw StopRun{};
    for (std::size_t start = 0; start < sources.size(); start += kScanBatch) {
      const std::vector<SourceFile> batch(sources.begin() + start,
                                          sources.begin() + std::min(sources.size(), start + kScanBatch));
      std::vector<SourceScan> scans = scan_sources(batch, settings, usable_cores());
      if (compile_cache_) look_up_batch(start, scans);
      for (std::size_t j : largest_first(scans)) {
        handle_scan(start + j, std::move(scans[j]));
        while (compiler_.outstanding() > window) handle_reply(compiler_.next_reply());
      }
    }
    while (compiler_.outstanding() > 0) handle_reply(compiler_.next_reply());
  } catch (const StopRun&) {
    compiler_.cancel();  // kills the interpreters; nothing further is written
  }
  stats.interpreters_started = compiler_.processes_started() - processes_before;

  if (compile_cache_) compile_cache_->finish();
  if (cache_) cache_->save();
  record_.finish();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (stats_out) *stats_out = stats;
  return stats.failed > 0 ? kExitFailures : kExitOk;
}

std::vector<bool> CompileRun::outputs_to_write(const SourceScan& scan) const {
  std::vector<bool> stale;
  bool any_stale = false;
  for (OutputState state : scan.states) {
    stale.push_back(options_.force || state != OutputState::Current);
    any_stale = any_stale || stale.back();
  }
  // Hardlinking needs every level's bytes, so a stale source recompiles all levels.
  if (any_stale && options_.hardlink_dupes) std::fill(stale.begin(), stale.end(), true);
  return stale;
}

// Reads and keys every source of the batch with an output to write, and looks
// the outputs up in the compile cache in one round (the remote's requests go
// out in parallel).
void CompileRun::look_up_batch(std::size_t start, const std::vector<SourceScan>& scans) {
  // Read, hash and key on every core.
  std::vector<std::optional<Prepared>> prepared(scans.size());
  parallel_for(scans.size(), usable_cores(), [&](std::size_t j) {
    const SourceScan& scan = scans[j];
    if (scan.error) return;
    const std::vector<bool> stale = outputs_to_write(scan);
    if (std::find(stale.begin(), stale.end(), true) == stale.end()) return;
    Prepared prep;
    try {
      prep.source = read_file(scan.plan.source.path, &prep.st);
    } catch (const FileError&) {
      return;  // handle_scan reads it again and reports the error
    }
    prep.header = expected_header(info_, options_.mode, prep.source, prep.st);
    const std::string source_sha256 = sha256_hex(prep.source);
    prep.keys.resize(stale.size());
    prep.entries.resize(stale.size());
    for (std::size_t k = 0; k < stale.size(); ++k) {
      if (stale[k]) {
        prep.keys[k] = compile_cache_key(info_, scan.plan.outputs[k].optimize, scan.plan.embedded_path, source_sha256);
      }
    }
    prepared[j] = std::move(prep);
  });

  std::vector<CacheQuery> queries;
  std::vector<std::pair<std::size_t, std::size_t>> query_for;  // (source index, output)
  for (std::size_t j = 0; j < scans.size(); ++j) {
    if (!prepared[j]) continue;
    for (std::size_t k = 0; k < prepared[j]->keys.size(); ++k) {
      if (prepared[j]->keys[k].empty()) continue;
      queries.push_back({prepared[j]->keys[k], scans[j].plan.embedded_path});
      query_for.emplace_back(start + j, k);
    }
    prepared_.emplace(start + j, std::move(*prepared[j]));
  }
  std::vector<std::optional<std::string>> entries = compile_cache_->lookup(queries);
  for (std::size_t q = 0; q < entries.size(); ++q) {
    prepared_.at(query_for[q].first).entries[query_for[q].second] = std::move(entries[q]);
  }
}

// Queues the stale outputs of a scanned source; reports everything else.
void CompileRun::handle_scan(std::size_t index, SourceScan scan) {
  std::optional<Prepared> prep;
  if (auto it = prepared_.find(index); it != prepared_.end()) {
    prep = std::move(it->second);
    prepared_.erase(it);
  }
  if (scan.error) {
    fail_source(scan.plan.source.path, *scan.error, OnError::Fail);
    reporter_.source_done(scan.plan.source.path);
    return;
  }
  for (const auto& out : scan.plan.outputs) writer_.sweep(std::string(path_dirname(out.path)));
  Pending p;
  p.plan = std::move(scan.plan);
  p.stale = outputs_to_write(scan);
  if (std::find(p.stale.begin(), p.stale.end(), true) == p.stale.end()) {
    keep_current_outputs(p.plan, scan);
    reporter_.source_done(p.plan.source.path);
    return;
  }

  // Read again (unless look_up_batch just did): the header must describe
  // exactly the bytes compiled, and the source may have changed since it was scanned.
  if (!prep) {
    prep.emplace();
    try {
      prep->source = read_file(p.plan.source.path, &prep->st);
    } catch (const FileError& e) {
      fail_source(p.plan.source.path, e.what(), OnError::Fail);
      reporter_.source_done(p.plan.source.path);
      return;
    }
    prep->header = expected_header(info_, options_.mode, prep->source, prep->st);
  }
  const struct stat& st = prep->st;
  p.header = prep->header;
  p.mode = pyc_mode_for_source(st.st_mode);
  p.source_identity = identity_of(st);
  p.code.resize(p.plan.outputs.size());
  p.body.resize(p.plan.outputs.size());
  p.from_cache.assign(p.plan.outputs.size(), false);
  p.cache_keys = std::move(prep->keys);
  for (std::size_t k = 0; k < p.plan.outputs.size(); ++k) {
    if (!p.stale[k]) continue;
    if (k < prep->entries.size() && prep->entries[k]) {
      p.body[k] = std::move(prep->entries[k]);
      p.from_cache[k] = true;
      continue;
    }
    CompileRequest req;
    req.id = next_request_id_++;
    req.optimize = p.plan.outputs[k].optimize;
    req.embedded_path = p.plan.embedded_path;
    req.source = prep->source;
    requests_.emplace(req.id, RequestFor{index, k, CompileRequest::Kind::Compile});
    compiler_.submit(std::move(req));
    ++p.remaining;
  }
  if (p.remaining == 0) {  // every output from the compile cache
    finish_source(p);
    return;
  }
  pending_.emplace(index, std::move(p));
}

void CompileRun::handle_reply(CompileReply reply) {
  const auto request = requests_.find(reply.id);
  if (request == requests_.end()) throw std::logic_error("reply for an unknown request");
  const RequestFor what = request->second;
  requests_.erase(request);
  auto it = pending_.find(what.source);
  Pending& p = it->second;
  const std::size_t k = what.output;
  if (what.kind == CompileRequest::Kind::Verify) {
    if (reply.code) {
      ++record_.stats().verified;
    } else if (!p.failure) {
      p.failure = reply.failure;
      p.failure->message =
          "the interpreter loads the canonical pyc differently from what it compiled: " + p.failure->message;
    }
  } else if (reply.code) {
    p.code[k] = std::move(reply.code);
    if (verify_ && !p.failure) submit_verify(what.source, p, k);
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
    const OnError policy = on_error_for(options_, p.failure->rejected_by_compiler());
    fail_source(source, describe_failure(source, *p.failure), policy);
    if (policy != OnError::Fail && options_.placeholder_for_skipped) {
      for (const auto& out : p.plan.outputs) {
        try {
          if (writer_.place_placeholder(out.path)) record_.placeholder(out.path);
        } catch (const FileError& e) {
          fail_source(source, e.what(), OnError::Fail);
        }
      }
    }
  } else {
    write_outputs(p);
  }
  reporter_.source_done(source);
}

const std::string* CompileRun::canonical_body(Pending& p, std::size_t k) {
  if (p.body[k]) return &*p.body[k];
  try {
    std::string body = marshal::canonicalize(*p.code[k], code_layout_);
    // What import needs: a code object, compiled for this file.
    if (marshal::code_filename(body, code_layout_) != fsdecoded_utf8(p.plan.embedded_path)) {
      throw marshal::MarshalError("the code object is not the one compiled for this file", 0);
    }
    p.body[k] = std::move(body);
    return &*p.body[k];
  } catch (const marshal::MarshalError& e) {
    if (!p.failure) {
      p.failure =
          CompileFailure{CompileFailure::kUnusableReply,
                         "the interpreter's reply is not usable: " + std::string(e.what()), std::nullopt, std::nullopt};
    }
    return nullptr;
  }
}

// Sends output k's canonical body back to the interpreter to be loaded and
// compared with what it compiled (compiler.h, Kind::Verify).
void CompileRun::submit_verify(std::size_t index, Pending& p, std::size_t k) {
  const std::string* body = canonical_body(p, k);
  if (!body) return;
  CompileRequest req;
  req.kind = CompileRequest::Kind::Verify;
  req.id = next_request_id_++;
  req.source = *p.code[k];
  req.canonical = *body;
  requests_.emplace(req.id, RequestFor{index, k, CompileRequest::Kind::Verify});
  compiler_.submit(std::move(req));
  ++p.remaining;
}

void CompileRun::write_outputs(Pending& p) {
  const std::string& source = p.plan.source.path;
  std::vector<std::string> bytes(p.plan.outputs.size());
  for (std::size_t k = 0; k < p.plan.outputs.size(); ++k) {
    if (!p.stale[k]) continue;
    const std::string* body = canonical_body(p, k);
    if (!body) {
      fail_source(source, describe_failure(source, *p.failure), OnError::Fail);
      return;
    }
    bytes[k] = as_chars(p.header);
    bytes[k] += *body;
  }
  if (compile_cache_) {
    for (std::size_t k = 0; k < p.plan.outputs.size(); ++k) {
      if (p.stale[k] && !p.from_cache[k] && k < p.cache_keys.size() && !p.cache_keys[k].empty()) {
        compile_cache_->store(p.cache_keys[k], *p.body[k]);
      }
    }
  }

  const std::vector<std::string> paths = output_paths(p.plan);
  bool failed = false;
  for (std::size_t k = 0; k < p.plan.outputs.size(); ++k) {
    const PlannedOutput& out = p.plan.outputs[k];
    if (!p.stale[k]) {
      record_.output(p.plan, out, Placement::Unchanged, nullptr);
      continue;
    }
    try {
      record_.output(p.plan, out, writer_.place(paths, bytes, k, p.mode), &bytes[k]);
    } catch (const FileError& e) {
      fail_source(source, e.what(), OnError::Fail);
      failed = true;
    }
  }
  if (cache_ && !failed) cache_->record(p.plan.source.absolute, p.source_identity, paths, p.stale);
}

// Every output of `plan` is current. With --hardlink-dupes, levels with
// identical bytes that are separate files (written by a run without the flag)
// are linked now; no interpreter is needed for that. Outputs the stat cache
// vouched for were left as that run left them.
void CompileRun::keep_current_outputs(const PlannedSource& plan, const SourceScan& scan) {
  const bool relink = options_.hardlink_dupes && !scan.from_cache;
  const std::vector<std::string> paths = output_paths(plan);
  std::vector<std::optional<std::string>> bytes(paths.size());
  bool failed = false;
  for (std::size_t k = 0; k < paths.size(); ++k) {
    Placement placement = Placement::Unchanged;
    if (relink) bytes[k] = writer_.read_output(paths[k]);
    try {
      placement = writer_.relink(paths, bytes, k);
    } catch (const FileError& e) {
      fail_source(plan.source.path, e.what(), OnError::Fail);
      failed = true;
    }
    record_.output(plan, plan.outputs[k], placement, bytes[k] ? &*bytes[k] : nullptr);
  }
  if (!cache_ || failed) return;
  if (scan.from_cache) {
    cache_->keep(plan.source.absolute);
  } else {
    cache_->record(plan.source.absolute, scan.source_identity, paths, std::vector<bool>(paths.size(), false));
  }
}

void CompileRun::fail_source(const std::string& source, const std::string& message, OnError policy) {
  record_.failure(source, message, policy);
  if (policy == OnError::Fail && options_.fail_fast) throw StopRun{};
}

namespace {

// Learns the interpreter's facts and runs; the time includes learning them.
int run_with_pool(const CompileOptions& options, InterpreterPool& pool, Reporter& reporter, CompileStats& counts) {
  validate_options(options);
  const auto started = std::chrono::steady_clock::now();
  const InterpreterInfo info = learn_interpreter(pool);
  RealFileSystem fs;
  const int status = CompileRun(options, info, pool, fs, reporter).run(&counts);
  counts.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return status;
}

}  // namespace

int run_compile(const CompileOptions& options, Reporter& reporter, CompileStats* stats) {
  validate_options(options);
  CompileStats counts;
  int status;
  {
    InterpreterPool pool(resolve_executable(options.python), interpreter_processes(options), options.timeout);
    status = run_with_pool(options, pool, reporter, counts);
  }  // the interpreters are reaped here, so their peak memory is known
  if (options.stats) write_stats(*options.stats, counts);
  if (stats) *stats = counts;
  return status;
}

int run_compile(const CompileOptions& options, InterpreterPool& pool, Reporter& reporter, CompileStats* stats) {
  CompileStats counts;
  const int status = run_with_pool(options, pool, reporter, counts);
  if (options.stats) write_stats(*options.stats, counts);
  if (stats) *stats = counts;
  return status;
}

}  // namespace pycemit
