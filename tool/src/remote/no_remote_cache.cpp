// make_remote_cache for builds of pycemit without libcurl (the Bazel build,
// whose actions use Bazel's own remote cache instead).
#include "pycemit/plan.h"
#include "pycemit/remote_cache.h"

namespace pycemit {

std::unique_ptr<RemoteCache> make_remote_cache(const RemoteCacheSettings& settings) {
  throw PlanError("this pycemit was built without the remote cache (no libcurl), so --remote-cache " + settings.url +
                  " cannot be used; a pycemit built with CMake or Meson has it");
}

}  // namespace pycemit
