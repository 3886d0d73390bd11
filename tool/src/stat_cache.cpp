#include "pycemit/stat_cache.h"

#include <ctime>

#include "pycemit/cache_directory.h"
#include "pycemit/discover.h"
#include "pycemit/file_io.h"
#include "pycemit/little_endian.h"
#include "pycemit/naming.h"

namespace pycemit {
namespace {

// Cache file format: this line, then per entry: the source path, its identity,
// the number of outputs, and per output its path and identity. Paths are a
// u32 LE length and bytes; identities five u64 LE. Version 1 of the canonical
// form is part of the context, so a change of either starts a new file.
constexpr std::string_view kMagic = "pycemit stat cache 1\n";

std::int64_t now_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

std::int64_t ns(const timespec& t) { return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

void put_text(std::string& out, const std::string& text) {
  append_le(out, static_cast<std::uint32_t>(text.size()));
  out += text;
}

void put_identity(std::string& out, const FileIdentity& id) {
  append_le(out, id.device);
  append_le(out, id.inode);
  append_le(out, static_cast<std::uint64_t>(id.size));
  append_le(out, static_cast<std::uint64_t>(id.mtime_ns));
  append_le(out, static_cast<std::uint64_t>(id.ctime_ns));
}

// Reads the format above; every read fails (returns false) rather than
// running past the end.
class Parser {
 public:
  explicit Parser(std::string_view data) : data_(data) {}
  bool done() const { return pos_ == data_.size(); }
  template <typename T>
  bool number(T& v) {
    if (data_.size() - pos_ < sizeof(T)) return false;
    v = read_le<T>(data_, pos_);
    pos_ += sizeof(T);
    return true;
  }
  bool text(std::string& s) {
    std::uint32_t n;
    if (!number(n) || data_.size() - pos_ < n) return false;
    s.assign(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool identity(FileIdentity& id) {
    std::uint64_t size, mtime, ctime;
    if (!number(id.device) || !number(id.inode) || !number(size) || !number(mtime) || !number(ctime)) return false;
    id.size = static_cast<std::int64_t>(size);
    id.mtime_ns = static_cast<std::int64_t>(mtime);
    id.ctime_ns = static_cast<std::int64_t>(ctime);
    return true;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string stat_cache_context(const CompileOptions& options, const Locations& locations, const InterpreterInfo& info) {
  std::string c = "canonical form 1\n";
  c += info.executable + "\n" + info.cache_tag.value_or("-") + "\n" + std::to_string(info.magic_number()) + "\n";
  c += to_string(options.mode) + "\n" + to_string(options.layout) + "\n";
  for (int level : options.levels) c += std::to_string(level) + " ";
  c += "\n" + locations.source_root + "\n" + locations.install_root + "\n" + locations.staging_root.value_or("-") +
       "\n" + locations.output_root.value_or("-") + "\n" + locations.pycache_prefix.value_or("-") + "\n" +
       locations.embed_prefix.value_or("-") + "\n" + (locations.embed_run_time_path ? "run-time" : "relative") + "\n" +
       (options.hardlink_dupes ? "hardlinks" : "copies") + "\n";
  for (const auto& path : options.paths) c += absolute_path(path) + "\n";
  return c;
}

FileIdentity identity_of(const struct stat& st) {
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
          static_cast<std::int64_t>(st.st_size), ns(st.st_mtim), ns(st.st_ctim)};
}

std::optional<FileIdentity> identity_of(const std::string& path, bool follow_symlinks) {
  auto st = follow_symlinks ? stat_path(path) : lstat_path(path);
  if (!st) return std::nullopt;
  return identity_of(*st);
}

StatCache::StatCache(const std::string& context)
    : path_(cache_file("stat", context, "bin").value_or("")), run_start_ns_(now_ns()) {}

void StatCache::load() {
  if (path_.empty()) return;
  const auto data = read_output_file(path_);
  if (!data || !std::string_view(*data).starts_with(kMagic)) return;
  Parser in(std::string_view(*data).substr(kMagic.size()));
  std::unordered_map<std::string, Entry> entries;
  while (!in.done()) {
    std::string source;
    Entry e;
    std::uint32_t count;
    if (!in.text(source) || !in.identity(e.source) || !in.number(count) || count > 3) return;  // corrupt: ignore it
    for (std::uint32_t k = 0; k < count; ++k) {
      std::pair<std::string, FileIdentity> out;
      if (!in.text(out.first) || !in.identity(out.second)) return;
      e.outputs.push_back(std::move(out));
    }
    entries.emplace(std::move(source), std::move(e));
  }
  loaded_ = std::move(entries);
}

bool StatCache::unchanged(const std::string& source, const std::vector<std::string>& outputs) const {
  const auto it = loaded_.find(source);
  if (it == loaded_.end() || it->second.outputs.size() != outputs.size()) return false;
  if (identity_of(source, true) != it->second.source) return false;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const auto& [path, recorded] = it->second.outputs[k];
    if (path != outputs[k] || identity_of(path, false) != recorded) return false;
  }
  return true;
}

void StatCache::keep(const std::string& source) {
  const auto it = loaded_.find(source);
  if (it != loaded_.end()) current_[source] = it->second;
}

bool StatCache::racy(const FileIdentity& id) const {
  const bool whole_seconds = id.mtime_ns % 1'000'000'000 == 0 && id.ctime_ns % 1'000'000'000 == 0;
  const std::int64_t limit = run_start_ns_ - (whole_seconds ? kCoarseRacyWindowNs : kRacyWindowNs);
  return id.mtime_ns >= limit || id.ctime_ns >= limit;
}

void StatCache::record(const std::string& source, const FileIdentity& source_identity,
                       const std::vector<std::string>& outputs, const std::vector<bool>& written) {
  current_.erase(source);
  if (racy(source_identity)) return;
  Entry e{source_identity, {}};
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const auto id = identity_of(outputs[k], false);
    if (!id || (!written[k] && racy(*id))) return;
    e.outputs.emplace_back(outputs[k], *id);
  }
  current_.emplace(source, std::move(e));
}

void StatCache::save() const {
  if (path_.empty() || current_ == loaded_) return;
  std::string data(kMagic);
  for (const auto& [source, e] : current_) {
    put_text(data, source);
    put_identity(data, e.source);
    append_le(data, static_cast<std::uint32_t>(e.outputs.size()));
    for (const auto& [path, id] : e.outputs) {
      put_text(data, path);
      put_identity(data, id);
    }
  }
  try {
    make_directories(std::string(path_dirname(path_)));
    write_file_atomically(path_, data, 0644);
  } catch (const std::exception&) {
    // A read-only cache directory: the next run scans in full.
  }
}

}  // namespace pycemit
