#include "pycemit/check.h"

#include <algorithm>
#include <tuple>

#include "pycemit/orphans.h"
#include "pycemit/scan.h"

namespace pycemit {

std::string to_string(CheckFinding::Kind kind) {
  switch (kind) {
    case CheckFinding::Kind::Missing: return "missing";
    case CheckFinding::Kind::Stale: return "stale";
    case CheckFinding::Kind::NotCanonical: return "not-canonical";
    case CheckFinding::Kind::Orphaned: return "orphaned";
    case CheckFinding::Kind::Unreadable: return "unreadable";
  }
  return "?";
}

std::vector<CheckFinding> check_outputs(const std::vector<SourceFile>& sources, const CompileOptions& options,
                                        const Locations& locations, const InterpreterInfo& info) {
  using Kind = CheckFinding::Kind;
  const ScanSettings settings(options, locations, info);
  std::vector<CheckFinding> findings;
  for (const SourceScan& scan : scan_sources(sources, settings, usable_cores())) {
    if (scan.error) {
      findings.push_back({Kind::Unreadable, "", scan.plan.source.path, *scan.error});
      continue;
    }
    for (std::size_t k = 0; k < scan.states.size(); ++k) {
      const std::string& pyc = scan.plan.outputs[k].path;
      const std::string& source = scan.plan.source.path;
      switch (scan.states[k]) {
        case OutputState::Missing: findings.push_back({Kind::Missing, pyc, source, scan.causes[k]}); break;
        case OutputState::Stale: findings.push_back({Kind::Stale, pyc, source, scan.causes[k]}); break;
        case OutputState::NotCanonical: findings.push_back({Kind::NotCanonical, pyc, source, scan.causes[k]}); break;
        case OutputState::Current: break;
      }
    }
  }
  for (const auto& orphan : find_orphaned_pycs(options.paths, options.layout, locations)) {
    findings.push_back({Kind::Orphaned, orphan, "", "no source uses it"});
  }
  std::sort(findings.begin(), findings.end(),
            [](const auto& a, const auto& b) { return std::tie(a.pyc, a.source) < std::tie(b.pyc, b.source); });
  return findings;
}

}  // namespace pycemit
