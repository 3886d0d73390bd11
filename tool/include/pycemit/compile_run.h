// `pycemit compile`: the orchestrator of one run.
//
//   discover -> scan -> (all current? stop) -> compile -> canonicalise -> [verify] -> write -> record
//
// Each stage is a file of its own: discover.h, scan.h, compiler.h (the
// interpreter pool), marshal.h, output_writer.h, run_record.h; the stat cache
// (stat_cache.h) lets scan skip files unchanged since a run found them current.
// This file holds only the run's rules: sources are scanned in sorted batches
// and streamed to the compiler with a bounded window, so memory holds the file
// list plus a few sources in flight; a source whose outputs are all current is
// not compiled (its outputs keep their mtimes), and when every output is current
// no interpreter starts (given cached interpreter facts, interpreter_cache.h).
// With verification on (CompileOptions::verify), each canonical body goes back
// to the interpreter (a Verify request, compiler.h) before it is written; a body
// that loads differently fails its source and writes nothing for it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pycemit/compile_cache.h"
#include "pycemit/compiler.h"
#include "pycemit/exit_status.h"
#include "pycemit/file_system.h"
#include "pycemit/interpreter.h"
#include "pycemit/marshal.h"
#include "pycemit/output_writer.h"
#include "pycemit/plan.h"
#include "pycemit/pyc_header.h"
#include "pycemit/reporter.h"
#include "pycemit/run_options.h"
#include "pycemit/run_record.h"
#include "pycemit/scan.h"
#include "pycemit/stat_cache.h"

namespace pycemit {

class InterpreterPool;

// One run of the pipeline over `options.paths`, for the interpreter described
// by `interpreter`, compiling with `compiler` and writing through `fs`.
// Every reference must outlive the run.
class CompileRun {
 public:
  CompileRun(const CompileOptions& options, const InterpreterInfo& interpreter, Compiler& compiler, FileSystem& fs,
             Reporter& reporter);

  // Runs the pipeline once. Returns the exit status (kExitOk, or kExitFailures
  // when a source failed under --on-error fail); every problem is reported
  // through the reporter. Throws InterpreterError (another cache tag than
  // --expect-cache-tag, or the compiler cannot run), PlanError (bad locations),
  // FileError (manifest, RECORD).
  int run(CompileStats* stats = nullptr);

 private:
  // A source with at least one output to compile, waiting for its replies.
  struct Pending {
    PlannedSource plan;
    PycHeaderBytes header{};
    mode_t mode = 0644;
    std::vector<bool> stale;                       // per output
    std::vector<std::optional<std::string>> code;  // per output: marshal bytes, as compiled
    std::vector<std::optional<std::string>> body;  // per output: canonical bytes, once made
    std::optional<CompileFailure> failure;
    std::vector<CompileWarning> warnings;
    std::size_t remaining = 0;
    FileIdentity source_identity;         // of the source as read for compiling
    std::vector<std::string> cache_keys;  // per output, with the compile cache on (compile_cache_entry.h)
    std::vector<bool> from_cache;         // per output: its body came from the compile cache
  };

  // A source read, keyed and looked up in the compile cache before it is
  // queued (look_up_batch): the bytes read are the bytes the header and the
  // key describe.
  struct Prepared {
    std::string source;
    struct stat st {};
    PycHeaderBytes header{};
    std::vector<std::string> keys;                    // per output; empty for a current one
    std::vector<std::optional<std::string>> entries;  // per output: the cache's checked body
  };

  // Which outputs of a scanned source this run writes.
  std::vector<bool> outputs_to_write(const SourceScan& scan) const;
  void look_up_batch(std::size_t start, const std::vector<SourceScan>& scans);

  void handle_scan(std::size_t index, SourceScan scan);
  void keep_current_outputs(const PlannedSource& plan, const SourceScan& scan);
  void handle_reply(CompileReply reply);
  void finish_source(Pending& p);
  void write_outputs(Pending& p);
  // The canonical body of output k, made from p.code[k] (once); nullopt after
  // recording p's failure when the interpreter's reply cannot be read.
  const std::string* canonical_body(Pending& p, std::size_t k);
  void submit_verify(std::size_t index, Pending& p, std::size_t k);
  void fail_source(const std::string& source, const std::string& message, OnError policy);

  const CompileOptions& options_;
  const InterpreterInfo& info_;
  Compiler& compiler_;
  Reporter& reporter_;
  OutputWriter writer_;
  RunRecord record_;
  Locations locations_;
  marshal::CodeLayout code_layout_ = marshal::CodeLayout::Py311;
  std::map<std::size_t, Pending> pending_;  // by source index
  // Request id -> the source index, output index and kind of request. Ids count up from 0.
  struct RequestFor {
    std::size_t source;
    std::size_t output;
    CompileRequest::Kind kind;
  };
  std::unordered_map<std::uint64_t, RequestFor> requests_;
  bool verify_ = false;
  std::uint64_t next_request_id_ = 0;
  std::unique_ptr<StatCache> cache_;
  std::unique_ptr<CompileCache> compile_cache_;
  std::unordered_map<std::size_t, Prepared> prepared_;  // by source index, for the batch being queued
};

// Runs the pipeline with an interpreter pool of its own (options.python,
// options.jobs, options.timeout) and the real file system: validates the
// options, learns the interpreter's facts (interpreter_cache.h), runs, and
// writes options.stats. Returns the exit status. `stats`, if given, receives
// the counts. Throws PlanError (bad options), InterpreterError (bad
// interpreter), FileError (manifest, RECORD, stats).
int run_compile(const CompileOptions& options, Reporter& reporter, CompileStats* stats = nullptr);

// The same with `pool`, which outlives the run (the Bazel persistent worker keeps
// one pool per interpreter); options.python, jobs and timeout are then unused.
int run_compile(const CompileOptions& options, InterpreterPool& pool, Reporter& reporter,
                CompileStats* stats = nullptr);

}  // namespace pycemit
