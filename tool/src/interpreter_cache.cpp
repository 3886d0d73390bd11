#include "pycemit/interpreter_cache.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "pycemit/cache_directory.h"
#include "pycemit/file_io.h"
#include "pycemit/format_probe.h"
#include "pycemit/interpreter_pool.h"

namespace pycemit {
namespace {

// The identity of the file `executable` resolves to, or nullopt if it does not
// exist or (with `native_only`) is not a native executable.
std::optional<std::string> identity(const std::string& executable, bool native_only) {
  char real[PATH_MAX];
  if (!::realpath(executable.c_str(), real)) return std::nullopt;
  auto head = read_file_prefix(real, 4);
  if (native_only && (!head || *head != "\x7f"
                                        "ELF"))
    return std::nullopt;
  auto st = stat_path(real);
  if (!st) return std::nullopt;
  auto ns = [](const timespec& t) { return std::to_string(t.tv_sec) + "." + std::to_string(t.tv_nsec); };
  return std::string(real) + "|" + std::to_string(st->st_dev) + "|" + std::to_string(st->st_ino) + "|" +
         std::to_string(st->st_size) + "|" + ns(st->st_mtim) + "|" + ns(st->st_ctim);
}

std::string to_hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string from_hex(std::string_view hex) {
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw std::invalid_argument("not hex");
  };
  if (hex.size() % 2) throw std::invalid_argument("odd hex length");
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<char>(value(hex[i]) * 16 + value(hex[i + 1])));
  return out;
}

// What else decides the facts cached: this pycemit binary (its table of known
// formats) and the test seam $PYCEMIT_TREAT_AS_UNKNOWN.
std::string deciding_context() {
  std::string context = "pycemit " + identity("/proc/self/exe", /*native_only=*/false).value_or("?");
  if (const char* unknown = std::getenv("PYCEMIT_TREAT_AS_UNKNOWN")) context += std::string("|unknown=") + unknown;
  return context;
}

std::optional<std::string> interpreter_file(const std::string& executable, std::string* key_out) {
  auto id = identity(executable, /*native_only=*/true);
  if (!id) return std::nullopt;
  auto key = std::optional<std::string>(*id + "|" + deciding_context());
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
    info.release_level = j.at("release_level").get<std::string>();
    info.serial = j.at("serial").get<int>();
    info.implementation_version = j.at("implementation_version").get<std::string>();
    if (!j.at("cache_tag").is_null()) info.cache_tag = j.at("cache_tag").get<std::string>();
    const auto magic = j.at("magic").get<std::vector<int>>();
    if (magic.size() != 4) return std::nullopt;
    for (int i = 0; i < 4; ++i) info.magic[i] = static_cast<std::uint8_t>(magic[i]);
    info.marshal_version = j.at("marshal_version").get<int>();
    info.free_threaded = j.at("free_threaded").get<bool>();
    // The format is decided again, from the same source hashes.
    for (const auto& pair : j.at("source_hashes")) {
      info.source_hashes.emplace_back(from_hex(pair.at(0).get<std::string>()), from_hex(pair.at(1).get<std::string>()));
    }
    decide_format(info);
    info.format_probed = j.at("format_probed").get<bool>();
    if (!info.known_format && !info.format_probed) return std::nullopt;
    return info;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void store_cached_interpreter(const InterpreterInfo& info) {
  std::string key;
  auto file = interpreter_file(info.executable, &key);
  if (!file) return;
  nlohmann::json hashes = nlohmann::json::array();
  for (const auto& [data, hash] : info.source_hashes) hashes.push_back({to_hex(data), to_hex(hash)});
  nlohmann::json j = {
      {"key", key},
      {"implementation", info.implementation},
      {"major", info.major},
      {"minor", info.minor},
      {"micro", info.micro},
      {"release_level", info.release_level},
      {"serial", info.serial},
      {"implementation_version", info.implementation_version},
      {"cache_tag", info.cache_tag ? nlohmann::json(*info.cache_tag) : nlohmann::json(nullptr)},
      {"magic", std::vector<int>(info.magic.begin(), info.magic.end())},
      {"marshal_version", info.marshal_version},
      {"free_threaded", info.free_threaded},
      {"source_hashes", hashes},
      {"format_probed", info.format_probed},
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
  if (!info.known_format) probe_format(pool, info);
  store_cached_interpreter(info);
  return info;
}

}  // namespace pycemit
