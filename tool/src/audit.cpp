#include "pycemit/audit.h"

#include <algorithm>
#include <tuple>

#include "pycemit/canonical_pyc.h"
#include "pycemit/file_io.h"
#include "pycemit/freshness.h"
#include "pycemit/marshal.h"
#include "pycemit/orphans.h"

namespace pycemit {

std::string to_string(AuditFinding::Kind kind) {
  switch (kind) {
    case AuditFinding::Kind::Missing: return "missing";
    case AuditFinding::Kind::Stale: return "stale";
    case AuditFinding::Kind::NotCanonical: return "not-canonical";
    case AuditFinding::Kind::Orphaned: return "orphaned";
    case AuditFinding::Kind::Unreadable: return "unreadable";
  }
  return "?";
}

std::vector<AuditFinding> audit(const std::vector<SourceFile>& sources, const CompileOptions& options,
                                const Locations& locations, const InterpreterInfo& info) {
  using Kind = AuditFinding::Kind;
  const marshal::CodeLayout layout = marshal::code_layout_for_minor(info.minor);
  std::vector<AuditFinding> findings;
  for (const auto& source : sources) {
    const PlannedSource plan = plan_source(source, locations, options.layout, info.cache_tag, options.levels);
    std::string bytes;
    try {
      bytes = read_file(source.path);
    } catch (const FileError&) {
      findings.push_back({Kind::Unreadable, "", source.path});
      continue;
    }
    const auto st = stat_path(source.path);
    const PycHeaderBytes header = expected_header(info, options.mode, bytes, *st);
    for (const auto& out : plan.outputs) {
      if (!lstat_path(out.path)) {
        findings.push_back({Kind::Missing, out.path, source.path});
      } else if (!pyc_is_current(out.path, header, plan.embedded_path, layout)) {
        findings.push_back({Kind::Stale, out.path, source.path});
      } else {
        const std::string data = read_file(out.path);
        if (canonical_pyc(data) != data) findings.push_back({Kind::NotCanonical, out.path, source.path});
      }
    }
  }
  for (const auto& orphan : find_orphaned_pycs(options.paths, options.layout, locations)) {
    findings.push_back({Kind::Orphaned, orphan, ""});
  }
  std::sort(findings.begin(), findings.end(), [](const auto& a, const auto& b) {
    return std::tie(a.pyc, a.source) < std::tie(b.pyc, b.source);
  });
  return findings;
}

}  // namespace pycemit
