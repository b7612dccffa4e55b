// The persistent worker pool behind gemm_context: every index runs exactly once, failures reach
// the caller, nested and concurrent runs complete, and parallel_ranges covers each item once.
#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "anybit/gemm/parallel.hpp"
#include "support/test_support.hpp"

namespace anybit {

TEST_CASE("thread_pool runs every index exactly once, many times over") {
  detail::thread_pool pool;
  for (std::size_t count : {1u, 2u, 3u, 5u}) {
    for (int round = 0; round < 300; ++round) {  // repeated runs catch lost wake-ups
      std::vector<std::atomic<int>> hits(count);
      pool.run(count, [&](std::size_t i) { hits[i].fetch_add(1); });
      for (std::size_t i = 0; i < count; ++i) REQUIRE(hits[i].load() == 1);
    }
  }
}

TEST_CASE("thread_pool uses other threads than the caller") {
  detail::thread_pool pool;
  std::vector<std::thread::id> ids(3);
  pool.run(3, [&](std::size_t i) { ids[i] = std::this_thread::get_id(); });
  CHECK(ids[0] == std::this_thread::get_id());
  CHECK(ids[1] != ids[0]);
  CHECK(ids[2] != ids[0]);
  CHECK(ids[1] != ids[2]);
}

TEST_CASE("thread_pool rethrows a task's exception after every task finished") {
  detail::thread_pool pool;
  for (std::size_t thrower : {0u, 1u, 2u}) {
    std::atomic<int> finished{0};
    const auto task = [&](std::size_t i) {
      if (i == thrower) throw std::runtime_error("task " + std::to_string(i));
      finished.fetch_add(1);
    };
    CHECK_THROWS_WITH_AS(pool.run(3, task), ("task " + std::to_string(thrower)).c_str(), std::runtime_error);
    CHECK(finished.load() == 2);
  }
  std::atomic<int> after{0};  // the pool still works
  pool.run(3, [&](std::size_t) { after.fetch_add(1); });
  CHECK(after.load() == 3);
}

TEST_CASE("thread_pool runs nested and concurrent calls without deadlock") {
  detail::thread_pool pool;
  std::atomic<int> inner{0};
  pool.run(2, [&](std::size_t) { pool.run(3, [&](std::size_t) { inner.fetch_add(1); }); });
  CHECK(inner.load() == 6);

  std::atomic<int> total{0};
  std::thread other([&] {
    for (int r = 0; r < 200; ++r) pool.run(2, [&](std::size_t) { total.fetch_add(1); });
  });
  for (int r = 0; r < 200; ++r) pool.run(2, [&](std::size_t) { total.fetch_add(1); });
  other.join();
  CHECK(total.load() == 800);
}

TEST_CASE("parallel_ranges covers every item once for any thread count and chunk") {
  for (int threads : {1, 2, 3, 8}) {
    gemm_context ctx;
    ctx.threads = threads;
    for (std::size_t count : {0u, 1u, 2u, 7u, 100u}) {
      for (std::size_t chunk : {1u, 4u, 64u}) {
        std::vector<std::atomic<int>> hits(count);
        std::atomic<int> ranges{0}, bad_workers{0};
        const std::size_t workers = detail::parallel_workers(ctx, count, chunk);
        detail::parallel_ranges(ctx, count, chunk, [&](std::size_t begin, std::size_t end, std::size_t worker) {
          ranges.fetch_add(1);
          if (worker >= workers) bad_workers.fetch_add(1);
          for (std::size_t i = begin; i < end; ++i) hits[i].fetch_add(1);
        });
        for (std::size_t i = 0; i < count; ++i) REQUIRE(hits[i].load() == 1);
        CHECK(bad_workers.load() == 0);
        CHECK(ranges.load() <= threads);
        if (count > 0 && chunk > 0) CHECK(static_cast<std::size_t>(ranges.load()) <= std::max<std::size_t>(1, count / chunk));
      }
    }
  }
}

}  // namespace anybit
