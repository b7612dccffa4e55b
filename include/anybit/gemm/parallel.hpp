// anybit/gemm/parallel.hpp — how gemm drivers split work between threads: whole groups of
// weight panels, so no output is shared and results do not depend on the thread count.
#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

#include "anybit/core/bitops.hpp"

namespace anybit::detail {

/// Calls work(begin, end) on disjoint panel ranges covering [0, panels), each a multiple of
/// `group` panels (but the last), on up to `threads` threads; the caller's thread takes one.
template <class Work>
void parallel_panels(std::size_t panels, std::size_t group, int threads, const Work& work) {
  const std::size_t groups = ceil_div(panels, group);
  const std::size_t workers = std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(threads), groups));
  const auto bound = [&](std::size_t t) { return std::min(panels, groups * t / workers * group); };
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t + 1 < workers; ++t) pool.emplace_back(work, bound(t), bound(t + 1));
  work(bound(workers - 1), panels);
  for (auto& th : pool) th.join();
}

}  // namespace anybit::detail
