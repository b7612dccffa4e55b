// anybit/gemm/context.hpp — explicit execution settings for gemm: threads and allowed paths.
// Nothing is global: a default context reads ANYBIT_NUM_THREADS and ANYBIT_PATHS once, at
// construction, and records which path the last call ran.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>

#include "anybit/core/error.hpp"
#include "anybit/gemm/path.hpp"
#include "anybit/gemm/thread_pool.hpp"

namespace anybit {

struct gemm_context {
  int threads = 1;                              // 1 = run on the calling thread only
  path_mask allowed = all_paths;                // further limited by what the CPU supports
  path last_path = path::reference;             // set by every gemm call
  /// Worker threads, started on first use and kept asleep between calls; copies of a context
  /// share them.
  std::shared_ptr<detail::thread_pool> pool;

  detail::thread_pool& workers() {
    if (!pool) pool = std::make_shared<detail::thread_pool>();
    return *pool;
  }

  /// Defaults from the environment: ANYBIT_NUM_THREADS (1 if unset), ANYBIT_PATHS (all if unset).
  static gemm_context from_environment() {
    gemm_context ctx;
    ctx.allowed = environment_paths();
    if (const char* text = std::getenv("ANYBIT_NUM_THREADS"); text != nullptr && *text != '\0') {
      char* end = nullptr;
      const long n = std::strtol(text, &end, 10);
      if (*end != '\0' || n < 1 || n > 1024) {
        throw error(detail::message("anybit: ANYBIT_NUM_THREADS = '", text, "', expected an integer in 1..1024"));
      }
      ctx.threads = static_cast<int>(n);
    }
    return ctx;
  }
};

}  // namespace anybit
