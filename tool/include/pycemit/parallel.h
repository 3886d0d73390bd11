// Runs independent pieces of work on several threads: what the scan stage and
// the compile cache's lookups do with each batch of sources.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace pycemit {

// Calls work(i) for every i in [0, n), on up to `threads` threads (this one
// included), each taking the next i as it finishes one. `work` must be safe to
// call concurrently for different i, and must not throw.
template <typename Work>
void parallel_for(std::size_t n, int threads, const Work& work) {
  std::atomic<std::size_t> next{0};
  auto run = [&] {
    for (std::size_t i = next++; i < n; i = next++) work(i);
  };
  std::vector<std::thread> helpers;
  const std::size_t count = std::min<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), n);
  for (std::size_t t = 1; t < count; ++t) helpers.emplace_back(run);
  run();
  for (auto& h : helpers) h.join();
}

}  // namespace pycemit
