// anybit/gemm/float_gemm.hpp — the float GEMM that training runs on.
//
//     C = alpha * op(A) * op(B) + beta * C        (row-major; op = identity or transpose)
//
// Same contract as reference::float_gemm; threads come from the gemm_context. GotoBLAS/BLIS
// structure: for each nc-wide block of columns and kc-deep block of K, pack op(B) into panels;
// for each mc-tall block of rows, pack op(A); then a micro-kernel computes every mr x nr tile
// from the packed panels (kernels/float_pack.hpp). Packing absorbs the transposes, so a kernel
// sees one layout. Kernels: AVX2+FMA (x86-64, chosen at run time) and a portable xsimd kernel.
//
// Determinism: every output is summed by one micro-kernel call per kc block, in order of K, and
// a kernel's lanes never mix, so results do not depend on the thread count or tile position;
// they are bit-identical run to run for a given kernel and kc.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "anybit/core/aligned_buffer.hpp"
#include "anybit/core/bitops.hpp"
#include "anybit/core/cpu_features.hpp"
#include "anybit/core/error.hpp"
#include "anybit/core/platform.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/gemm/path.hpp"
#include "anybit/kernels/float_avx2.hpp"
#include "anybit/kernels/float_pack.hpp"
#include "anybit/kernels/float_portable.hpp"
#include "anybit/kernels/reference_float_gemm.hpp"

namespace anybit {

/// The float GEMM implementations.
enum class float_kernel {
  reference,  // the oracle: plain loops with a double accumulator, one thread
  portable,   // xsimd at the translation unit's ISA: always available
  avx2_fma,   // hand-written AVX2+FMA 6 x 16 kernel (x86-64 with AVX2 and FMA)
};

inline const char* float_kernel_name(float_kernel k) noexcept {
  switch (k) {
    case float_kernel::reference: return "reference";
    case float_kernel::portable: return "portable";
    case float_kernel::avx2_fma: return "avx2_fma";
  }
  return "unknown";
}

/// Whether kernel k is in this build and the running CPU can execute it.
inline bool float_kernel_supported(float_kernel k) {
  switch (k) {
    case float_kernel::reference:
    case float_kernel::portable: return true;
    case float_kernel::avx2_fma: {
#if ANYBIT_X86_KERNELS
      return cpu().avx2 && cpu().fma;
#else
      return false;
#endif
    }
  }
  return false;
}

/// The kernel float_gemm runs for ctx: AVX2+FMA when the CPU has it and ctx.allowed has avx2;
/// else the portable kernel when any SIMD or scalar path is allowed; else the reference.
inline float_kernel choose_float_kernel(const gemm_context& ctx) {
  if ((ctx.allowed & mask_of(path::avx2)) && float_kernel_supported(float_kernel::avx2_fma)) {
    return float_kernel::avx2_fma;
  }
  const path_mask simd = mask_of(path::scalar) | mask_of(path::avx2) | mask_of(path::avx512) | mask_of(path::neon);
  if (ctx.allowed & simd) return float_kernel::portable;
  if (ctx.allowed & mask_of(path::reference)) return float_kernel::reference;
  throw error(detail::message("anybit: float_gemm has no allowed kernel for gemm_context::allowed = ", ctx.allowed,
                              ", expected a mask with reference, scalar, avx2, avx512 or neon"));
}

/// A forced kernel and cache blocking (0 = the kernel's tuned value). mc and nc are rounded up
/// to whole tiles. Tests use small blocks to cross every block edge on small matrices.
struct float_gemm_plan {
  float_kernel kernel = float_kernel::portable;
  std::size_t mc = 0;
  std::size_t kc = 0;
  std::size_t nc = 0;
};

namespace detail {

struct float_gemm_problem {
  bool ta, tb;
  std::size_t m, n, k;
  float alpha;
  const float* a;
  std::size_t lda;
  const float* b;
  std::size_t ldb;
  float beta;
  float* c;
  std::size_t ldc;
};

struct float_blocks {
  std::size_t mc, kc, nc;
};

// Kernel::tile<rows> for a run-time rows in 1..rows_max.
template <class Kernel, int rows_max = Kernel::mr>
void float_tile(std::size_t rows, std::size_t depth, const float* a, const float* b, float alpha, float beta,
                float* c, std::size_t ldc) {
  if constexpr (rows_max > 1) {
    if (rows < rows_max) return float_tile<Kernel, rows_max - 1>(rows, depth, a, b, alpha, beta, c, ldc);
  }
  Kernel::template tile<rows_max>(depth, a, b, alpha, beta, c, ldc);
}

// Rows [r0, r1) x columns [c0, c1) of C, blocked; a_pack and b_pack hold one block each.
// Kernel: a micro_kernel of kernels/float_*.hpp (mr, nr, pack_a, pack_b, tile<rows>).
template <class Kernel>
void float_gemm_range(const float_gemm_problem& p, const float_blocks& blk, std::size_t r0, std::size_t r1,
                      std::size_t c0, std::size_t c1, float* a_pack, float* b_pack) {
  constexpr std::size_t tile_rows = Kernel::mr, tile_cols = Kernel::nr;
  for (std::size_t jc = c0; jc < c1; jc += blk.nc) {
    const std::size_t cols = std::min(blk.nc, c1 - jc);
    for (std::size_t pc = 0; pc < p.k; pc += blk.kc) {
      const std::size_t depth = std::min(blk.kc, p.k - pc);
      const float beta = pc == 0 ? p.beta : 1.0f;  // later K blocks add to what the first wrote
      Kernel::pack_b(p.tb, p.tb ? p.b + jc * p.ldb + pc : p.b + pc * p.ldb + jc, p.ldb, depth, cols, b_pack);
      for (std::size_t ic = r0; ic < r1; ic += blk.mc) {
        const std::size_t rows = std::min(blk.mc, r1 - ic);
        Kernel::pack_a(p.ta, p.ta ? p.a + pc * p.lda + ic : p.a + ic * p.lda + pc, p.lda, rows, depth, a_pack);
        for (std::size_t jr = 0; jr < cols; jr += tile_cols) {
          const float* b_panel = b_pack + jr * depth;
          const std::size_t live_cols = std::min(tile_cols, cols - jr);
          for (std::size_t ir = 0; ir < rows; ir += tile_rows) {
            const float* a_panel = a_pack + ir * depth;
            float* out = p.c + (ic + ir) * p.ldc + jc + jr;
            const std::size_t live_rows = std::min(tile_rows, rows - ir);
            if (live_rows == tile_rows && live_cols == tile_cols) {
              Kernel::template tile<Kernel::mr>(depth, a_panel, b_panel, p.alpha, beta, out, p.ldc);
            } else if (live_cols == tile_cols) {  // the last rows of C: a shorter tile, in place
              float_tile<Kernel>(live_rows, depth, a_panel, b_panel, p.alpha, beta, out, p.ldc);
            } else {
              // The last columns: the kernel on a full-width scratch tile. Every output is
              // computed by the same operations in any tile, so this rounds like the rest.
              alignas(64) float edge[tile_rows * tile_cols] = {};
              if (beta != 0.0f) {
                for (std::size_t i = 0; i < live_rows; ++i) std::copy_n(out + i * p.ldc, live_cols, edge + i * tile_cols);
              }
              float_tile<Kernel>(live_rows, depth, a_panel, b_panel, p.alpha, beta, edge, tile_cols);
              for (std::size_t i = 0; i < live_rows; ++i) std::copy_n(edge + i * tile_cols, live_cols, out + i * p.ldc);
            }
          }
        }
      }
    }
  }
}

// Pack buffers live as long as the calling thread and only grow, so repeated calls of a
// training loop do not allocate. Workers get slices of the caller's buffer.
inline float* float_workspace(std::size_t floats) {
  static thread_local aligned_buffer<float> buffer;
  if (buffer.size() < floats) buffer = aligned_buffer<float>(floats);
  return buffer.data();
}

// Below this many multiply-adds per thread, starting a thread costs more than it saves.
inline constexpr std::size_t float_min_work_per_thread = std::size_t{1} << 20;

template <class Kernel>
void float_gemm_blocked(const float_gemm_problem& p, float_blocks blk, int threads, thread_pool& pool) {
  constexpr std::size_t mr = Kernel::mr, nr = Kernel::nr;
  blk.mc = round_up(std::max<std::size_t>(blk.mc, 1), mr);
  blk.nc = round_up(std::max<std::size_t>(blk.nc, 1), nr);
  blk.kc = std::max<std::size_t>(blk.kc, 1);
  const std::size_t depth = std::min(blk.kc, p.k);
  const std::size_t a_floats = round_up(round_up(std::min(blk.mc, p.m), mr) * depth, 16);  // 64-byte slices
  const std::size_t b_floats = round_up(round_up(std::min(blk.nc, p.n), nr) * depth, 16);

  // Threads take whole tiles of the dimension with more of them, so no output is shared.
  const std::size_t row_tiles = ceil_div(p.m, mr), col_tiles = ceil_div(p.n, nr);
  const bool split_cols = col_tiles >= row_tiles;
  const std::size_t tiles = split_cols ? col_tiles : row_tiles;
  const std::size_t work = p.m * p.n * p.k;
  const std::size_t workers = std::max<std::size_t>(
      1, std::min({static_cast<std::size_t>(threads), tiles, work / float_min_work_per_thread}));

  float* workspace = float_workspace(workers * (a_floats + b_floats));
  const auto run = [&](std::size_t t) {
    const std::size_t first = tiles * t / workers, last = tiles * (t + 1) / workers;
    float* a_pack = workspace + t * (a_floats + b_floats);
    float* b_pack = a_pack + a_floats;
    if (split_cols) {
      float_gemm_range<Kernel>(p, blk, 0, p.m, first * nr, std::min(p.n, last * nr), a_pack, b_pack);
    } else {
      float_gemm_range<Kernel>(p, blk, first * mr, std::min(p.m, last * mr), 0, p.n, a_pack, b_pack);
    }
  };
  if (workers == 1) return run(0);
  pool.run(workers, run);
}

}  // namespace detail

/// float_gemm with a forced kernel and blocking; throws if the kernel cannot run here.
inline void float_gemm(const float_gemm_plan& plan, transpose ta, transpose tb, std::size_t m, std::size_t n,
                       std::size_t k, float alpha, const float* a, std::size_t lda, const float* b, std::size_t ldb,
                       float beta, float* c, std::size_t ldc, gemm_context& ctx) {
  const std::size_t a_cols = ta == transpose::no ? k : m;
  const std::size_t b_cols = tb == transpose::no ? n : k;
  if (lda < a_cols || ldb < b_cols || ldc < n) {
    throw shape_error(detail::message("anybit: float_gemm strides lda = ", lda, ", ldb = ", ldb, ", ldc = ", ldc,
                                      ", expected at least ", a_cols, ", ", b_cols, ", ", n));
  }
  if ((m * k != 0 && a == nullptr) || (k * n != 0 && b == nullptr) || (m * n != 0 && c == nullptr)) {
    throw shape_error(detail::message("anybit: float_gemm ", m, " x ", n, " x ", k,
                                      " with a null operand, expected A, B and C to point at data"));
  }
  if (ctx.threads < 1) {
    throw error(detail::message("anybit: gemm_context::threads = ", ctx.threads, ", expected >= 1"));
  }
  if (!float_kernel_supported(plan.kernel)) {
    throw error(detail::message("anybit: float_gemm kernel ", float_kernel_name(plan.kernel),
                                " is not supported by this CPU or build, expected one float_kernel_supported accepts"));
  }
  ctx.last_path = plan.kernel == float_kernel::avx2_fma ? path::avx2
                  : plan.kernel == float_kernel::reference ? path::reference
                                                           : (ANYBIT_ARCH_AARCH64 ? path::neon : path::scalar);
  if (m == 0 || n == 0) return;
  if (plan.kernel == float_kernel::reference) {
    return reference::float_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  if (k == 0) {  // no products: C = beta * C, without reading C when beta == 0
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    }
    return;
  }

  const detail::float_gemm_problem p{ta == transpose::yes, tb == transpose::yes, m, n, k, alpha, a, lda, b, ldb,
                                     beta, c, ldc};
  const auto run = [&](auto kernel) {
    using K = decltype(kernel);
    const auto pick = [](std::size_t wanted, std::size_t tuned) { return wanted != 0 ? wanted : tuned; };
    detail::float_gemm_blocked<K>(p, {pick(plan.mc, K::mc), pick(plan.kc, K::kc), pick(plan.nc, K::nc)}, ctx.threads,
                                  ctx.workers());
  };
#if ANYBIT_X86_KERNELS
  if (plan.kernel == float_kernel::avx2_fma) return run(kernels::float_avx2::micro_kernel{});
#endif
  run(kernels::float_portable::micro_kernel{});
}

/// C = alpha * op(A) * op(B) + beta * C with the fastest kernel ctx allows; beta == 0 overwrites
/// C (NaNs in it do not leak). Strides are in floats; lda, ldb, ldc must cover the row widths.
inline void float_gemm(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
                       const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
                       std::size_t ldc, gemm_context& ctx) {
  float_gemm_plan plan;
  plan.kernel = choose_float_kernel(ctx);
  float_gemm(plan, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ctx);
}

}  // namespace anybit
