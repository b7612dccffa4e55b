// anybit/gemm/parallel.hpp — how work is split between a context's threads: contiguous ranges,
// each written by one thread only, so results never depend on the thread count.
#pragma once

#include <algorithm>
#include <cstddef>

#include "anybit/core/bitops.hpp"
#include "anybit/gemm/context.hpp"

namespace anybit::detail {

/// How many threads parallel_ranges uses for `count` items: at most ctx.threads, and none gets
/// fewer than min_chunk items unless there is only one.
inline std::size_t parallel_workers(const gemm_context& ctx, std::size_t count, std::size_t min_chunk) {
  const std::size_t most = std::max<std::size_t>(1, count / std::max<std::size_t>(min_chunk, 1));
  return std::min<std::size_t>(static_cast<std::size_t>(std::max(ctx.threads, 1)), most);
}

/// Calls body(begin, end, worker) on disjoint ranges covering [0, count), worker <
/// parallel_workers(ctx, count, min_chunk) numbering them (for per-worker scratch), on that many
/// threads, the caller's among them.
template <class Body>
void parallel_ranges(gemm_context& ctx, std::size_t count, std::size_t min_chunk, const Body& body) {
  if (count == 0) return;
  const std::size_t workers = parallel_workers(ctx, count, min_chunk);
  if (workers == 1) return body(std::size_t{0}, count, std::size_t{0});
  ctx.workers().run(workers, [&](std::size_t t) { body(count * t / workers, count * (t + 1) / workers, t); });
}

/// Cheap loops (element-wise, pooling, batch norm) hand a thread at least this many values:
/// waking a worker costs a few microseconds.
inline constexpr std::size_t values_per_task = 32768;

/// The min_chunk for items of `item_values` values each.
constexpr std::size_t items_per_task(std::size_t item_values) noexcept {
  return item_values >= values_per_task ? 1 : values_per_task / (item_values == 0 ? 1 : item_values);
}

/// parallel_ranges for element-wise loops: body(first, last).
template <class Body>
void parallel_elements(gemm_context& ctx, std::size_t count, const Body& body) {
  parallel_ranges(ctx, count, values_per_task, [&](std::size_t first, std::size_t last, std::size_t) { body(first, last); });
}

/// A copy of ctx that runs on its caller's thread only: for work inside a parallel range.
inline gemm_context single_threaded(const gemm_context& ctx) {
  gemm_context one = ctx;
  one.threads = 1;
  return one;
}

/// Calls work(begin, end) on disjoint panel ranges covering [0, panels), each a multiple of
/// `group` panels (but the last), on up to ctx.threads threads.
template <class Work>
void parallel_panels(std::size_t panels, std::size_t group, gemm_context& ctx, const Work& work) {
  parallel_ranges(ctx, ceil_div(panels, group), 1, [&](std::size_t first, std::size_t last, std::size_t) {
    work(std::min(panels, first * group), std::min(panels, last * group));
  });
}

}  // namespace anybit::detail
