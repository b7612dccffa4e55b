// anybit/gemm/bitserial_gemm.hpp — the bit-serial GEMM driver over unsigned codes.
//
//     c[m * ldc + n] = sum_k a(m, k) * w(n, k)        (exact, 64-bit)
//
// a: M x K activation codes (bit-planes), w: N x K weight codes packed once (packed_weights).
// The driver validates, picks the best allowed micro-kernel, then walks tiles of
// mr rows x np weight panels; each output is computed by exactly one tile, so results are
// identical for any thread count. Zero points, scales and the output stage build on this.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ios>
#include <vector>

#include "anybit/core/error.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/gemm/parallel.hpp"
#include "anybit/gemm/packed_weights.hpp"
#include "anybit/gemm/path.hpp"
#include "anybit/kernels/avx2.hpp"
#include "anybit/kernels/avx512.hpp"
#include "anybit/kernels/avx512bw.hpp"
#include "anybit/kernels/neon.hpp"
#include "anybit/kernels/scalar.hpp"
#include "anybit/kernels/tile_args.hpp"
#include "anybit/tensor/bitplane_view.hpp"

namespace anybit {
namespace detail {

struct bitserial_kernel {
  path which;
  void (*run)(const kernels::tile_args&);
  int mr;
  int np;
};

/// The micro-kernels in this build, fastest first (built once: gemm calls must not allocate).
inline const std::vector<bitserial_kernel>& compiled_bitserial_kernels() {
  static const std::vector<bitserial_kernel> list = [] {
    std::vector<bitserial_kernel> l;
#if ANYBIT_X86_KERNELS
    l.push_back({path::avx512, kernels::avx512::run, kernels::avx512::mr, kernels::avx512::np});
    l.push_back({path::avx512bw, kernels::avx512bw::run, kernels::avx512bw::mr, kernels::avx512bw::np});
    l.push_back({path::avx2, kernels::avx2::run, kernels::avx2::mr, kernels::avx2::np});
#endif
#if ANYBIT_ARCH_AARCH64
    l.push_back({path::neon, kernels::neon::run, kernels::neon::mr, kernels::neon::np});
#endif
    l.push_back({path::scalar, kernels::scalar::run, kernels::scalar::mr, kernels::scalar::np});
    return l;
  }();
  return list;
}

/// The compiled micro-kernel of path p, or nullptr (reference, or not in this build).
inline const bitserial_kernel* find_kernel(path p) {
  for (const auto& k : compiled_bitserial_kernels()) {
    if (k.which == p) return &k;
  }
  return nullptr;
}

// Panels [p_begin, p_end) of every row: one kernel call per np panels and block of rows.
// A sink receives the exact sums: sink.direct(m0, n0) may give a place in the final output
// (with sink.direct_stride()) for full blocks; otherwise sums go through a small tile that
// sink.take(tile, stride, m0, rows, n0, cols) converts (the output stage works on L1 data).
template <class Sink>
void run_panels(const bitserial_kernel& k, const bitplane_view& a, const packed_weights_view& w, Sink& sink,
                std::size_t p_begin, std::size_t p_end) {
  constexpr std::size_t row_block = 32;
  constexpr std::size_t max_width = 4 * kernels::panel_width;  // the widest kernel: 4 panels
  alignas(64) std::int64_t tile[row_block * max_width];
  const std::size_t width = static_cast<std::size_t>(k.np) * kernels::panel_width;
  if (width > max_width) throw error("anybit: micro-kernel wider than the output tile");
  const auto block = [&](std::size_t p0, std::size_t m0, std::size_t rows) {
    const int panels = static_cast<int>(std::min<std::size_t>(k.np, p_end - p0));
    const std::size_t n0 = p0 * kernels::panel_width;
    const std::size_t cols = std::min(static_cast<std::size_t>(panels) * kernels::panel_width, w.cols() - n0);
    const bool full = cols == static_cast<std::size_t>(panels) * kernels::panel_width;
    std::int64_t* direct = full ? sink.direct(m0, n0) : nullptr;
    const kernels::tile_args t{a.plane_row(0, m0), a.words_per_row(), a.plane_stride(), a.bits(),
                               w.data() + p0 * w.panel_stride(), w.panel_stride(), w.plane_stride(), w.bits(),
                               w.k_words(), static_cast<int>(rows), panels,
                               direct != nullptr ? direct : tile, direct != nullptr ? sink.direct_stride() : width};
    k.run(t);
    if (direct == nullptr) sink.take(tile, width, m0, rows, n0, cols);
  };
  // Weights that stay in L2 are swept once per mr rows, so the output is written row by row
  // (a few sequential streams, which the prefetchers follow). Larger weights are the ones to
  // keep close: each panel group then serves every row.
  constexpr std::size_t l2_budget = 256 * 1024;
  const std::size_t weight_bytes = (p_end - p_begin) * w.panel_stride() * static_cast<std::size_t>(w.bits()) * 8;
  if (weight_bytes <= l2_budget) {
    const std::size_t rows_step = 16;
    for (std::size_t m0 = 0; m0 < a.rows(); m0 += rows_step) {
      for (std::size_t p0 = p_begin; p0 < p_end; p0 += k.np) block(p0, m0, std::min(rows_step, a.rows() - m0));
    }
    return;
  }
  for (std::size_t p0 = p_begin; p0 < p_end; p0 += k.np) {
    for (std::size_t m0 = 0; m0 < a.rows(); m0 += row_block) block(p0, m0, std::min(row_block, a.rows() - m0));
  }
}

// Raw sums into c (ldc): full blocks are written in place.
struct int64_sink {
  std::int64_t* c;
  std::size_t ldc;
  std::int64_t* direct(std::size_t m0, std::size_t n0) const { return &c[m0 * ldc + n0]; }
  std::size_t direct_stride() const { return ldc; }
  void take(const std::int64_t* tile, std::size_t stride, std::size_t m0, std::size_t rows, std::size_t n0,
            std::size_t cols) const {
    for (std::size_t r = 0; r < rows; ++r) std::copy_n(&tile[r * stride], cols, &c[(m0 + r) * ldc + n0]);
  }
};

/// The output of `rows` rows for w: stride, pointer and thread count.
inline void check_output(const packed_weights_view& w, std::size_t rows, std::size_t ldc, const void* c,
                         const gemm_context& ctx) {
  if (ldc < w.cols()) {
    throw shape_error(detail::message("anybit: gemm output stride ldc = ", ldc, ", expected at least N = ", w.cols()));
  }
  if (rows * w.cols() != 0 && c == nullptr) throw shape_error("anybit: gemm output pointer is null");
  if (ctx.threads < 1) throw error(detail::message("anybit: gemm_context::threads = ", ctx.threads, ", expected >= 1"));
}

inline void check_gemm_shapes(const bitplane_view& a, const packed_weights_view& w, std::size_t ldc, const void* c,
                              const gemm_context& ctx) {
  if (a.cols() != w.k()) {
    throw shape_error(detail::message("anybit: gemm with activations of K = ", a.cols(), " and weights of K = ", w.k(),
                                      ", expected equal K"));
  }
  check_output(w, a.rows(), ldc, c, ctx);
}

}  // namespace detail

/// The path gemm would run for this context: the fastest allowed, supported one.
inline path choose_bitserial_path(const gemm_context& ctx) {
  const path_mask usable = ctx.allowed & supported_paths();
  for (const auto& k : detail::compiled_bitserial_kernels()) {
    if (usable & mask_of(k.which)) return k.which;
  }
  if (usable & mask_of(path::reference)) return path::reference;
  throw error(detail::message("anybit: no gemm path is both allowed (mask 0x", std::hex, ctx.allowed,
                              ") and supported here (mask 0x", supported_paths(), ")"));
}

namespace detail {

/// Validated shapes in, sums out through sink: chooses the path, records it, runs the threads.
/// Threads take whole groups of np panels, so no output is shared and the result does not
/// depend on the thread count.
template <class Sink>
void bitserial_sums(const bitplane_view& a, const packed_weights_view& w, Sink& sink, gemm_context& ctx) {
  const path chosen = choose_bitserial_path(ctx);
  ctx.last_path = chosen;
  if (a.rows() * w.cols() == 0) return;
  static const bitserial_kernel reference_kernel{path::reference, nullptr, 1, 1};
  const bitserial_kernel& kernel = chosen == path::reference ? reference_kernel : *find_kernel(chosen);
  const auto work = [&](std::size_t begin, std::size_t end) {
    if (kernel.run != nullptr) return run_panels(kernel, a, w, sink, begin, end);
    // The oracle path: every output from the plane-pair identity, reading the packed words.
    std::int64_t sum = 0;
    for (std::size_t m = 0; m < a.rows(); ++m) {
      for (std::size_t n = begin * kernels::panel_width; n < std::min(w.cols(), end * kernels::panel_width); ++n) {
        sum = 0;
        for (int i = 0; i < a.bits(); ++i) {
          for (int j = 0; j < w.bits(); ++j) {
            std::int64_t ones = 0;
            for (std::size_t kw = 0; kw < w.k_words(); ++kw) ones += popcount64(a.plane_row(i, m)[kw] & w.word(j, n, kw));
            sum += ones << (i + j);
          }
        }
        sink.take(&sum, 1, m, 1, n, 1);
      }
    }
  };
  parallel_panels(w.panels(), static_cast<std::size_t>(kernel.np), ctx, work);
}

}  // namespace detail

/// c[m * ldc + n] = sum_k a(m, k) * w(n, k) for every m < M, n < N: exact sums of unsigned codes.
inline void bitserial_gemm(const bitplane_view& a, const packed_weights_view& w, std::int64_t* c, std::size_t ldc,
                           gemm_context& ctx) {
  detail::check_gemm_shapes(a, w, ldc, c, ctx);
  detail::int64_sink sink{c, ldc};
  detail::bitserial_sums(a, w, sink, ctx);
}

}  // namespace anybit
