#include "pycemit/audit.h"

#include <algorithm>
#include <tuple>

#include "pycemit/orphans.h"
#include "pycemit/source_check.h"

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
  const CheckSettings settings(options, locations, info);
  std::vector<AuditFinding> findings;
  for (const SourceCheck& check : check_sources(sources, settings, usable_cores())) {
    if (check.error) {
      findings.push_back({Kind::Unreadable, "", check.plan.source.path});
      continue;
    }
    for (std::size_t k = 0; k < check.states.size(); ++k) {
      const std::string& pyc = check.plan.outputs[k].path;
      switch (check.states[k]) {
        case OutputState::Missing: findings.push_back({Kind::Missing, pyc, check.plan.source.path}); break;
        case OutputState::Stale: findings.push_back({Kind::Stale, pyc, check.plan.source.path}); break;
        case OutputState::NotCanonical: findings.push_back({Kind::NotCanonical, pyc, check.plan.source.path}); break;
        case OutputState::Current: break;
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
