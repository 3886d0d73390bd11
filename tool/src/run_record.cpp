#include "pycemit/run_record.h"

#include <sys/resource.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "pycemit/file_io.h"

namespace pycemit {

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
      {"verified", stats.verified},
      {"interpreters_started", stats.interpreters_started},
      {"seconds", stats.seconds},
      {"cache_lookups", stats.cache_lookups},
      {"cache_hits", stats.cache_hits},
      {"remote_hits", stats.remote_hits},
      {"cache_misses", stats.cache_misses},
      {"cache_stores", stats.cache_stores},
      {"remote_stores", stats.remote_stores},
      {"cache_dropped", stats.cache_dropped},
      {"remote_disabled", stats.remote_disabled},
      {"peak_rss_kib", self.ru_maxrss},
      {"interpreter_peak_rss_kib", children.ru_maxrss},
  };
  write_file_atomically(path, doc.dump(2) + "\n", 0644);
}

RunRecord::RunRecord(const CompileOptions& options, const std::string& cache_tag, Reporter& reporter)
    : options_(options), cache_tag_(cache_tag), reporter_(reporter) {}

void RunRecord::output(const PlannedSource& plan, const PlannedOutput& out, Placement placement,
                       const std::string* bytes) {
  // What this run did to the file: "written", "linked" (made a hardlink to
  // another level's file now), or "unchanged" (already right, linked or not).
  const char* what = placement == Placement::Written  ? "written"
                     : placement == Placement::Linked ? "linked"
                                                      : "unchanged";
  (placement == Placement::Written || placement == Placement::Linked ? stats_.written : stats_.unchanged)++;
  reporter_.file(placement == Placement::Written ? "wrote" : what, out.path);
  if (!options_.manifest && !options_.record) return;
  const std::string content = bytes ? std::string() : read_file(out.path);
  const std::string_view data = bytes ? std::string_view(*bytes) : std::string_view(content);
  OutputRecord r;
  r.source = plan.source.path;
  r.path = out.path;
  r.runtime_path = out.runtime_path;
  r.cache_tag = cache_tag_;
  r.optimize = out.optimize;
  r.mode = options_.mode;
  r.size = data.size();
  r.sha256 = sha256_hex(data);
  r.status = what;
  records_.push_back(std::move(r));
}

void RunRecord::failure(const std::string& source, const std::string& message, OnError policy) {
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
}

void RunRecord::error(const std::string& message) {
  reporter_.error(message);
  ++stats_.failed;
}

void RunRecord::placeholder(const std::string& path) { reporter_.file("placeholder", path); }

void RunRecord::finish() {
  if (options_.manifest) write_manifest(*options_.manifest, records_, skipped_);
  if (options_.record) update_record(*options_.record, records_);
  char summary[256];
  std::snprintf(summary, sizeof summary, "pycemit: %zu sources, %zu pycs written, %zu up to date, %zu failed%s",
                stats_.sources, stats_.written, stats_.unchanged, stats_.failed,
                stats_.skipped ? (", " + std::to_string(stats_.skipped) + " skipped").c_str() : "");
  reporter_.summary(summary);
}

}  // namespace pycemit
