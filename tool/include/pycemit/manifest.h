// The record stage's files: a JSON manifest of every output of a run, and the
// lines of a wheel RECORD (PEP 376 / PEP 627; the binary distribution format's
// "path,sha256=<urlsafe base64 without padding>,size").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pycemit/pyc_header.h"

namespace pycemit {

// One pyc of a run.
struct OutputRecord {
  std::string source;        // the source path as found
  std::string path;          // where the pyc was written
  std::string runtime_path;  // where the interpreter looks for it
  std::string cache_tag;
  int optimize = 0;
  InvalidationMode mode = InvalidationMode::CheckedHash;
  std::uint64_t size = 0;  // bytes
  std::string sha256;      // hex digest of the file's bytes
  std::string status;      // what the run did: "written", "linked" (hardlinked to another
                           // level's identical file), "unchanged" (already right)
};

// A source that was not compiled under --on-error warn/skip, or failed.
struct SkippedRecord {
  std::string source;
  std::string reason;  // the one-line diagnostic
};

// Lower-case hex SHA-256 of `data` (OpenSSL).
std::string sha256_hex(std::string_view data);
// "sha256=" + urlsafe base64 of the SHA-256 digest, without '=' padding (RECORD form).
std::string record_hash(std::string_view data);

// Writes the manifest atomically:
//   {"pycemit_manifest": 1, "outputs": [{source, path, runtime_path, cache_tag,
//     optimization_level, invalidation_mode, size, sha256, status}...],
//    "skipped": [{source, reason}...]}
// Outputs are sorted by path, so the file is reproducible. Throws FileError.
void write_manifest(const std::string& manifest_path, std::vector<OutputRecord> outputs,
                    std::vector<SkippedRecord> skipped);

// The output paths listed in a manifest written by write_manifest. Throws
// FileError (unreadable) or std::runtime_error (not a pycemit manifest).
std::vector<std::string> read_manifest_outputs(const std::string& manifest_path);

// Adds or updates, in the RECORD file at `record_path`, one line per output:
// its path relative to the site directory (the parent of the .dist-info directory
// holding RECORD; ".." where the pyc is outside it), its record_hash and size.
// Existing lines for other files keep their order; a line for a path already
// listed is replaced in place; new lines go before RECORD's own line. Written
// atomically. Throws FileError (missing RECORD, unwritable).
void update_record(const std::string& record_path, const std::vector<OutputRecord>& outputs);

}  // namespace pycemit
