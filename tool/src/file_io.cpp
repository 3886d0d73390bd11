#include "pycemit/file_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "pycemit/naming.h"

namespace pycemit {
namespace {

constexpr std::string_view kTempSuffix = ".pycemit-tmp";

FileError error_for(const std::string& path, const std::string& what, int err) {
  return FileError(path + ": " + what + (what.empty() ? "" : ": ") + std::strerror(err));
}

// "<path>.<pid>.<n>.pycemit-tmp": unique within this process, and names its owner.
std::string temporary_path_for(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + "." + std::to_string(::getpid()) + "." + std::to_string(counter++) + std::string(kTempSuffix);
}

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

// The pid in "<name>.<pid>.<n>.pycemit-tmp", or 0.
pid_t owner_of_temporary(std::string_view name) {
  name.remove_suffix(kTempSuffix.size());
  const auto counter_dot = name.rfind('.');
  if (counter_dot == std::string_view::npos) return 0;
  const auto pid_dot = name.rfind('.', counter_dot - 1);
  if (pid_dot == std::string_view::npos) return 0;
  const std::string pid_text(name.substr(pid_dot + 1, counter_dot - pid_dot - 1));
  if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) return 0;
  return static_cast<pid_t>(std::stol(pid_text));
}

}  // namespace

std::optional<struct stat> lstat_path(const std::string& path) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  return st;
}

std::optional<struct stat> stat_path(const std::string& path) {
  struct stat st{};
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
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw error_for(path, "cannot read", errno);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) throw error_for(path, "cannot read", errno);
  if (!S_ISREG(st.st_mode)) throw FileError(path + ": cannot read: not a regular file");
  std::string data;
  if (!read_up_to(fd.get(), static_cast<std::size_t>(st.st_size), data)) throw error_for(path, "cannot read", errno);
  if (st_out) *st_out = st;
  return data;
}

std::optional<std::string> read_output_file(const std::string& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st{};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::string data;
  if (!read_up_to(fd.get(), static_cast<std::size_t>(st.st_size), data)) return std::nullopt;
  return data;
}

std::optional<std::string> read_file_prefix(const std::string& path, std::size_t limit) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::nullopt;
  std::string data(limit, '\0');
  std::size_t got = 0;
  while (got < limit) {
    const ssize_t n = ::read(fd.get(), data.data() + got, limit - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  data.resize(got);
  return data;
}

mode_t pyc_mode_for_source(mode_t source_mode) { return (source_mode | 0200) & 0666; }

void check_output_path(const std::string& path) {
  auto st = lstat_path(path);
  if (!st || S_ISREG(st->st_mode)) return;
  const char* what = S_ISLNK(st->st_mode) ? "a symlink" : S_ISDIR(st->st_mode) ? "a directory" : "not a regular file";
  throw FileError(path + ": refusing to replace " + what + " with a pyc");
}

void write_file_atomically(const std::string& path, std::string_view bytes, mode_t mode) {
  const std::string temp = temporary_path_for(path);
  FileDescriptor fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0666));
  if (fd.get() < 0) throw error_for(path, "cannot write", errno);
  const bool written = write_all(fd.get(), bytes);
  const int write_errno = errno;
  if (!written || fd.release_and_close() != 0) {
    const int err = written ? errno : write_errno;
    ::unlink(temp.c_str());
    throw error_for(path, "cannot write", err);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    throw error_for(path, "cannot replace", err);
  }
}

void link_file_atomically(const std::string& existing, const std::string& path) {
  const std::string temp = temporary_path_for(path);
  if (::link(existing.c_str(), temp.c_str()) != 0) throw error_for(path, "cannot hardlink", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
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
    const pid_t owner = owner_of_temporary(name);
    if (owner <= 0 || owner == ::getpid()) continue;
    if (::kill(owner, 0) == 0 || errno != ESRCH) continue;  // still running (or not ours to judge)
    if (::unlinkat(::dirfd(dir), entry->d_name, 0) == 0) ++removed;
  }
  ::closedir(dir);
  return removed;
}

}  // namespace pycemit
