// Where pycemit keeps its caches (interpreter facts, the stat cache): files
// that only make runs faster and may be deleted at any time.
#pragma once

#include <optional>
#include <string>

namespace pycemit {

// $PYCEMIT_CACHE_DIR, else $XDG_CACHE_HOME/pycemit, else $HOME/.cache/pycemit;
// nullopt when none is set (the caches are then not used).
std::optional<std::string> cache_directory();

// "<cache directory>/<kind>-<SHA-256 of key>.<extension>", or nullopt without a
// cache directory.
std::optional<std::string> cache_file(const std::string& kind, const std::string& key, const std::string& extension);

}  // namespace pycemit
