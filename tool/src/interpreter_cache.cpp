#include "pycemit/interpreter_cache.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "pycemit/cache_directory.h"
#include "pycemit/file_io.h"
#include "pycemit/interpreter_pool.h"

namespace pycemit {
namespace {

// The identity of the file `executable` resolves to, or nullopt if it is not a
// native executable.
std::optional<std::string> identity(const std::string& executable) {
  char real[PATH_MAX];
  if (!::realpath(executable.c_str(), real)) return std::nullopt;
  auto head = read_file_prefix(real, 4);
  if (!head || *head != "\x7f" "ELF") return std::nullopt;
  auto st = stat_path(real);
  if (!st) return std::nullopt;
  auto ns = [](const timespec& t) { return std::to_string(t.tv_sec) + "." + std::to_string(t.tv_nsec); };
  return std::string(real) + "|" + std::to_string(st->st_dev) + "|" + std::to_string(st->st_ino) + "|" +
         std::to_string(st->st_size) + "|" + ns(st->st_mtim) + "|" + ns(st->st_ctim);
}

std::optional<std::string> interpreter_file(const std::string& executable, std::string* key_out) {
  auto key = identity(executable);
  if (!key) return std::nullopt;
  if (key_out) *key_out = *key;
  return cache_file("interpreter", executable + "\n" + *key, "json");
}

}  // namespace

std::optional<InterpreterInfo> load_cached_interpreter(const std::string& executable) {
  std::string key;
  auto file = interpreter_file(executable, &key);
  if (!file) return std::nullopt;
  auto text = read_file_prefix(*file, 64 * 1024);
  if (!text || text->empty()) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(*text);
    if (j.at("key").get<std::string>() != key) return std::nullopt;
    InterpreterInfo info;
    info.executable = executable;
    info.implementation = j.at("implementation").get<std::string>();
    info.major = j.at("major").get<int>();
    info.minor = j.at("minor").get<int>();
    info.micro = j.at("micro").get<int>();
    info.cache_tag = j.at("cache_tag").get<std::string>();
    const auto magic = j.at("magic").get<std::vector<int>>();
    if (magic.size() != 4) return std::nullopt;
    for (int i = 0; i < 4; ++i) info.magic[i] = static_cast<std::uint8_t>(magic[i]);
    info.marshal_version = j.at("marshal_version").get<int>();
    validate_interpreter(info);
    return info;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void store_cached_interpreter(const InterpreterInfo& info) {
  std::string key;
  auto file = interpreter_file(info.executable, &key);
  if (!file) return;
  nlohmann::json j = {
      {"key", key},
      {"implementation", info.implementation},
      {"major", info.major},
      {"minor", info.minor},
      {"micro", info.micro},
      {"cache_tag", info.cache_tag},
      {"magic", std::vector<int>(info.magic.begin(), info.magic.end())},
      {"marshal_version", info.marshal_version},
  };
  try {
    make_directories(std::string(file->substr(0, file->rfind('/'))));
    write_file_atomically(*file, j.dump(2) + "\n", 0644);
  } catch (const std::exception&) {
    // A read-only home or a sandbox: the cache is only an optimisation.
  }
}

}  // namespace pycemit

namespace pycemit {

InterpreterInfo learn_interpreter(InterpreterPool& pool) {
  if (auto cached = load_cached_interpreter(pool.interpreter())) {
    pool.expect(*cached);
    return *cached;
  }
  InterpreterInfo info = pool.handshake();
  store_cached_interpreter(info);
  return info;
}

}  // namespace pycemit
