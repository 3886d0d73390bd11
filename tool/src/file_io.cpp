#include "pycemit/file_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "pycemit/naming.h"

namespace pycemit {
namespace {

constexpr std::string_view kTempSuffix = ".pycemit-tmp";

FileError error_for(const std::string& path, const std::string& what, int err) {
  return FileError(path + ": " + what + (what.empty() ? "" : ": ") + std::strerror(err));
}

// "<path>.<16 random hex digits>.pycemit-tmp". Random, not a pid: pids repeat
// across PID namespaces (containers, sandboxes) sharing one file system.
std::string temporary_path_for(const std::string& path) {
  static thread_local std::mt19937_64 random(std::random_device{}() ^ (static_cast<std::uint64_t>(::getpid()) << 32));
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%016llx", static_cast<unsigned long long>(random()));
  return path + suffix + std::string(kTempSuffix);
}

// Attempts at an atomic write or link: a name collision (EEXIST) or a
// temporary file swept between its creation and its lock (ENOENT at the
// rename) costs one more.
constexpr int kAttempts = 4;

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  int release_and_close() {
    const int r = ::close(fd_);
    fd_ = -1;
    return r;
  }

 private:
  int fd_;
};

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::optional<struct stat> lstat_path(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  return st;
}

std::optional<struct stat> stat_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return st;
}

// Reads up to `size` bytes from `fd` (fewer if the file shrank). False on error.
static bool read_up_to(int fd, std::size_t size, std::string& data) {
  data.resize(size);
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, data.data() + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  data.resize(got);
  return true;
}

std::string read_file(const std::string& path, struct stat* st_out) {
  // O_NONBLOCK: a FIFO must not block the open; fstat then refuses it.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) throw error_for(path, "cannot read", errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw error_for(path, "cannot read", errno);
  if (!S_ISREG(st.st_mode)) throw FileError(path + ": cannot read: not a regular file");
  std::string data;
  if (!read_up_to(fd.get(), static_cast<std::size_t>(st.st_size), data)) throw error_for(path, "cannot read", errno);
  if (st_out) *st_out = st;
  return data;
}

std::optional<std::string> read_output_file(const std::string& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::string data;
  if (!read_up_to(fd.get(), static_cast<std::size_t>(st.st_size), data)) return std::nullopt;
  return data;
}

std::optional<std::string> read_file_prefix(const std::string& path, std::size_t limit) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  // The buffer is the file's size (plus one byte, to see it grow), not the limit.
  std::string data(std::min(limit, static_cast<std::size_t>(st.st_size) + 1), '\0');
  std::size_t got = 0;
  while (got < limit) {
    if (got == data.size()) data.resize(std::min(limit, 2 * data.size()));
    const ssize_t n = ::read(fd.get(), data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  data.resize(got);
  return data;
}

mode_t pyc_mode_for_source(mode_t source_mode) { return (source_mode | 0200) & 0666; }

void refuse_non_regular_output(const std::string& path) {
  auto st = lstat_path(path);
  if (!st || S_ISREG(st->st_mode)) return;
  const char* what = S_ISLNK(st->st_mode)    ? "a symlink"
                     : S_ISDIR(st->st_mode)  ? "a directory"
                     : S_ISFIFO(st->st_mode) ? "a FIFO"
                                             : "a special file";
  throw FileError(path + ": refusing to replace " + what + " with a pyc");
}

// The writer holds flock(LOCK_EX) on its temporary file from creation to
// rename: remove_stale_temporaries() removes only files it can lock, so never
// a live writer's, in any PID namespace. A temporary file removed in the moment
// between creation and lock makes the rename fail with ENOENT: written again.
void write_file_atomically(const std::string& path, std::string_view bytes, mode_t mode) {
  for (int attempt = 1;; ++attempt) {
    const std::string temp = temporary_path_for(path);
    FileDescriptor fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0666));
    if (fd.get() < 0 && errno == EEXIST && attempt < kAttempts) continue;
    if (fd.get() < 0) throw error_for(path, "cannot write", errno);
    ::flock(fd.get(), LOCK_EX);
    if (!write_all(fd.get(), bytes)) {
      const int err = errno;
      ::unlink(temp.c_str());
      throw error_for(path, "cannot write", err);
    }
    if (::rename(temp.c_str(), path.c_str()) == 0) return;  // the lock goes with the descriptor
    const int err = errno;
    if (err == ENOENT && attempt < kAttempts && stat_path(std::string(path_dirname(path)))) continue;
    ::unlink(temp.c_str());
    throw error_for(path, "cannot replace", err);
  }
}

void link_file_atomically(const std::string& existing, const std::string& path) {
  for (int attempt = 1;; ++attempt) {
    const std::string temp = temporary_path_for(path);
    if (::link(existing.c_str(), temp.c_str()) != 0) {
      if (errno == EEXIST && attempt < kAttempts) continue;
      throw error_for(path, "cannot hardlink", errno);
    }
    if (::rename(temp.c_str(), path.c_str()) == 0) return;
    const int err = errno;
    if (err == ENOENT && attempt < kAttempts && stat_path(existing)) continue;  // swept: link again
    ::unlink(temp.c_str());
    throw error_for(path, "cannot replace", err);
  }
}

void make_directories(const std::string& path) {
  if (path.empty()) return;
  auto st = stat_path(path);
  if (st) {
    if (!S_ISDIR(st->st_mode)) throw FileError(path + ": cannot create directory: a file is in the way");
    return;
  }
  const std::string_view parent = path_dirname(path);
  if (!parent.empty() && parent != path) make_directories(std::string(parent));
  if (::mkdir(path.c_str(), 0777) != 0 && errno != EEXIST) {
    throw error_for(path, "cannot create directory", errno);
  }
  st = stat_path(path);
  if (!st || !S_ISDIR(st->st_mode)) throw FileError(path + ": cannot create directory: a file is in the way");
}

int remove_stale_temporaries(const std::string& directory) {
  DIR* dir = ::opendir(directory.c_str());
  if (!dir) return 0;
  int removed = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name.size() <= kTempSuffix.size() || !name.ends_with(kTempSuffix)) continue;
    const int fd = ::openat(::dirfd(dir), entry->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    // Its writer holds the lock until its rename: lockable means abandoned.
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::unlinkat(::dirfd(dir), entry->d_name, 0) == 0) ++removed;
    ::close(fd);
  }
  ::closedir(dir);
  return removed;
}

}  // namespace pycemit
