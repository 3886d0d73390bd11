#include "pycemit/local_compile_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "pycemit/compile_cache_entry.h"
#include "pycemit/file_io.h"
#include "pycemit/naming.h"
#include "pycemit/plan.h"

namespace pycemit {
namespace {

constexpr const char* kCacheDirTag =
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by pycemit (its compile cache).\n"
    "# For information about cache directory tags see https://bford.ch/cachedir/\n";

// Makes `path` with mode 0755 (umask can only take bits away, so never a
// group- or other-writable directory); an existing one is left as it is.
void make_private_directory(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    throw FileError(path + ": cannot create the compile cache directory: " + std::strerror(errno));
  }
}

void refuse_unsafe_directory(const std::string& path) {
  const auto st = stat_path(path);
  if (!st || !S_ISDIR(st->st_mode)) throw PlanError("refusing the compile cache " + path + ": not a directory");
  if (st->st_uid != ::geteuid()) {
    throw PlanError("refusing the compile cache " + path + ": it is owned by user " + std::to_string(st->st_uid) +
                    ", and whoever can write it can put code into the pycs made from it");
  }
  if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st->st_mode & 07777));
    throw PlanError("refusing the compile cache " + path + ": it is writable by other users (mode " + mode +
                    "), and whoever can write it can put code into the pycs made from it");
  }
}

bool is_key(std::string_view name) {
  return name.size() == 64 &&
         std::all_of(name.begin(), name.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

struct EntryFile {
  std::string path;
  std::uint64_t bytes;
  struct timespec used;
};

// Every entry of the cache (and, with `sweep`, removes the temporaries of
// writers that were killed).
std::vector<EntryFile> list_entries(const std::string& entries, bool sweep) {
  std::vector<EntryFile> files;
  DIR* top = ::opendir(entries.c_str());
  if (!top) return files;
  while (const dirent* fan = ::readdir(top)) {
    const std::string_view name = fan->d_name;
    if (name.size() != 2 || name == "..") continue;
    const std::string dir = path_join(entries, name);
    if (sweep) remove_stale_temporaries(dir);
    DIR* d = ::opendir(dir.c_str());
    if (!d) continue;
    while (const dirent* e = ::readdir(d)) {
      if (!is_key(e->d_name)) continue;
      struct stat st {};
      if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
      files.push_back({path_join(dir, e->d_name), static_cast<std::uint64_t>(st.st_size), st.st_mtim});
    }
    ::closedir(d);
  }
  ::closedir(top);
  return files;
}

}  // namespace

LocalCompileCache::LocalCompileCache(std::string directory)
    : directory_(std::move(directory)), entries_(path_join(directory_, "v1")) {
  if (!stat_path(directory_)) {
    const std::string parent(path_dirname(directory_));
    if (!parent.empty()) make_directories(parent);
    make_private_directory(directory_);
  }
  refuse_unsafe_directory(directory_);
  make_private_directory(entries_);
  refuse_unsafe_directory(entries_);
  const std::string tag = path_join(directory_, "CACHEDIR.TAG");
  if (!stat_path(tag)) {
    try {
      write_file_atomically(tag, kCacheDirTag, 0644);
    } catch (const FileError&) {
      // Only a courtesy to backup tools.
    }
  }
}

std::string LocalCompileCache::entry_path(const std::string& key) const {
  return entries_ + "/" + key.substr(0, 2) + "/" + key;
}

std::optional<std::string> LocalCompileCache::load(const std::string& key) {
  const std::string path = entry_path(key);
  auto prefix = read_file_prefix(path, kMaxCompileCacheEntryBytes + 1);
  if (!prefix || prefix->size() > kMaxCompileCacheEntryBytes) return std::nullopt;
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);  // used now (least recently used goes first)
  return prefix;
}

void LocalCompileCache::store(const std::string& key, std::string_view entry) {
  const std::string path = entry_path(key);
  const std::string directory(path_dirname(path));
  if (swept_.insert(directory).second) {
    make_private_directory(directory);
    remove_stale_temporaries(directory);  // of writers killed before their rename
  }
  write_file_atomically(path, entry, 0644);
}

void LocalCompileCache::drop(const std::string& key) { ::unlink(entry_path(key).c_str()); }

LocalCacheUsage LocalCompileCache::usage() const {
  LocalCacheUsage usage;
  for (const auto& f : list_entries(entries_, false)) {
    ++usage.entries;
    usage.bytes += f.bytes;
  }
  return usage;
}

LocalCacheUsage LocalCompileCache::trim(std::uint64_t max_bytes) {
  std::vector<EntryFile> files = list_entries(entries_, true);
  std::uint64_t total = 0;
  for (const auto& f : files) total += f.bytes;
  std::sort(files.begin(), files.end(), [](const EntryFile& a, const EntryFile& b) {
    return a.used.tv_sec != b.used.tv_sec ? a.used.tv_sec < b.used.tv_sec : a.used.tv_nsec < b.used.tv_nsec;
  });
  LocalCacheUsage removed;
  for (const auto& f : files) {
    if (total <= max_bytes) break;
    if (::unlink(f.path.c_str()) == 0 || errno == ENOENT) {
      total -= f.bytes;
      ++removed.entries;
      removed.bytes += f.bytes;
    }
  }
  return removed;
}

LocalCacheUsage LocalCompileCache::clear() {
  LocalCacheUsage removed;
  for (const auto& f : list_entries(entries_, true)) {
    if (::unlink(f.path.c_str()) == 0) {
      ++removed.entries;
      removed.bytes += f.bytes;
    }
  }
  return removed;
}

}  // namespace pycemit
