#include "pycemit/compile_cache_options.h"

#include <cctype>
#include <charconv>
#include <cstdlib>

#include "pycemit/file_io.h"
#include "pycemit/plan.h"

namespace pycemit {
namespace {

std::optional<std::string> environment(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

}  // namespace

std::uint64_t parse_size(std::string_view text, std::string_view what) {
  const auto bad = [&] {
    return PlanError(std::string(what) + ": not a size: \"" + std::string(text) +
                     "\" (bytes, or a number with K, M, G or T)");
  };
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || number == 0) throw bad();
  std::string suffix(end, text.data() + text.size());
  for (char& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (suffix.ends_with("IB")) {
    suffix.resize(suffix.size() - 2);
  } else if (suffix.size() == 2 && suffix.back() == 'B') {
    suffix.pop_back();
  }
  int shift = 0;
  if (suffix == "K") {
    shift = 10;
  } else if (suffix == "M") {
    shift = 20;
  } else if (suffix == "G") {
    shift = 30;
  } else if (suffix == "T") {
    shift = 40;
  } else if (!suffix.empty() && suffix != "B") {
    throw bad();
  }
  if (shift > 0 && number > (~std::uint64_t{0} >> shift)) throw bad();
  return number << shift;
}

std::string checked_remote_cache_url(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    throw PlanError("remote cache URL must start with http:// or https://: " + std::string(url));
  }
  const std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.find('@') != std::string_view::npos) {
    throw PlanError(
        "remote cache URL must not hold credentials (a command line is visible to every user): use "
        "--remote-cache-token-file, --remote-cache-basic-auth-file or PYCEMIT_REMOTE_CACHE_TOKEN/_BASIC_AUTH");
  }
  if (authority.empty()) throw PlanError("remote cache URL has no host: " + std::string(url));
  while (url.ends_with('/')) url.remove_suffix(1);
  return std::string(url);
}

std::string read_credential_file(const std::string& path) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const FileError& e) {
    throw PlanError(e.what());
  }
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.empty()) throw PlanError(path + ": the credential file's first line is empty");
  return text;
}

RemoteCacheSettings remote_cache_settings_from_environment() {
  RemoteCacheSettings remote;
  if (auto url = environment("PYCEMIT_REMOTE_CACHE")) remote.url = checked_remote_cache_url(*url);
  const auto read_only = environment("PYCEMIT_REMOTE_CACHE_READ_ONLY");
  remote.read_only = read_only && *read_only != "0";
  remote.bearer_token = environment("PYCEMIT_REMOTE_CACHE_TOKEN");
  remote.basic_auth = environment("PYCEMIT_REMOTE_CACHE_BASIC_AUTH");
  return remote;
}

CompileCacheOptions compile_cache_options_from_environment() {
  CompileCacheOptions o;
  o.directory = environment("PYCEMIT_COMPILE_CACHE");
  if (auto size = environment("PYCEMIT_COMPILE_CACHE_MAX_SIZE")) {
    o.max_bytes = parse_size(*size, "PYCEMIT_COMPILE_CACHE_MAX_SIZE");
  }
  RemoteCacheSettings remote = remote_cache_settings_from_environment();
  if (!remote.url.empty()) o.remote = std::move(remote);
  return o;
}

}  // namespace pycemit
