#include "pycemit/cache_directory.h"

#include <cstdlib>

#include "pycemit/manifest.h"

namespace pycemit {

std::optional<std::string> cache_directory() {
  if (const char* dir = std::getenv("PYCEMIT_CACHE_DIR"); dir && *dir) return std::string(dir);
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/') return std::string(xdg) + "/pycemit";
  if (const char* home = std::getenv("HOME"); home && *home == '/') return std::string(home) + "/.cache/pycemit";
  return std::nullopt;
}

std::optional<std::string> cache_file(const std::string& kind, const std::string& key, const std::string& extension) {
  auto dir = cache_directory();
  if (!dir) return std::nullopt;
  return *dir + "/" + kind + "-" + sha256_hex(key) + "." + extension;
}

}  // namespace pycemit
