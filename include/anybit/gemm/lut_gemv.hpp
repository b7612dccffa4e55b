// anybit/gemm/lut_gemv.hpp — the table-lookup path (avx512_lut) for a GEMV and other few-row
// products: activation codes become per-row tables of k-group sums and each weight plane's
// nibbles look them up (kernels/lut_avx512.hpp), so the cost grows with W, not W * A.
//
// Weights get their own layout, built once per packed_weights and nested width and cached
// beside the planes (packed_weights' derived forms), like the int8 path's byte panels.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ios>
#include <memory>
#include <vector>

#include "anybit/core/aligned_buffer.hpp"
#include "anybit/core/bitops.hpp"
#include "anybit/core/error.hpp"
#include "anybit/gemm/byte_activations.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/gemm/packed_weights.hpp"
#include "anybit/gemm/parallel.hpp"
#include "anybit/gemm/path.hpp"
#include "anybit/kernels/lut_avx512.hpp"

namespace anybit {

/// Largest K the lookup path takes: its per-plane column sums are 32-bit (K * 255 < 2^32).
inline constexpr std::size_t lut_max_k = std::size_t{1} << 24;

#if ANYBIT_X86_KERNELS

namespace detail {

namespace lut = kernels::avx512_lut;

/// Kc steps of the lookup layouts for K: padded to pairs (the kernel widens every two steps).
inline std::size_t lut_steps(std::size_t k) { return round_up(ceil_div(k, lut::k_step), std::size_t{2}); }

/// Weights in the lookup kernel's layout (kernels/lut_avx512.hpp), zero past N and K.
struct lut_weights {
  std::size_t cols, groups, steps;
  int bits;
  aligned_buffer<std::uint8_t> data;

  explicit lut_weights(const packed_weights_view& w)
      : cols(w.cols()), groups(ceil_div(w.cols(), lut::group_columns)), steps(lut_steps(w.k())), bits(w.bits()),
        data(static_cast<std::size_t>(bits) * groups * group_stride()) {
    const std::size_t real_steps = ceil_div(w.k(), lut::k_step);
    for (int j = 0; j < bits; ++j) {
      for (std::size_t n = 0; n < cols; ++n) {
        std::uint8_t* column = plane_group(j, n / lut::group_columns) + (n % lut::group_columns / 16) * 64 + n % 16;
        for (std::size_t s = 0; s < real_steps; ++s) {
          const std::uint64_t word = w.word(j, n, s / 2) >> (32 * (s % 2));  // k = 32s .. 32s + 31
          for (std::size_t lane = 0; lane < 4; ++lane) {
            const auto low = static_cast<std::uint8_t>((word >> (4 * lane)) & 0xF);
            const auto high = static_cast<std::uint8_t>((word >> (4 * lane + 16)) & 0xF);
            column[s * lut::step_bytes + 16 * lane] = static_cast<std::uint8_t>(low | high << 4);
          }
        }
      }
    }
  }
  std::size_t group_stride() const { return steps * lut::step_bytes; }
  std::uint8_t* plane_group(int j, std::size_t g) { return data.data() + (static_cast<std::size_t>(j) * groups + g) * group_stride(); }
  const std::uint8_t* plane_group(int j, std::size_t g) const {
    return data.data() + (static_cast<std::size_t>(j) * groups + g) * group_stride();
  }
};

/// The lookup layout of w, built once per packed_weights and nested width (thread-safe); a bare
/// view gets a private copy in `scratch`.
inline const lut_weights& lut_form(const packed_weights_view& w, std::unique_ptr<lut_weights>& scratch) {
  return derived_form(w, derived_forms::lut_slot, scratch);
}

/// Sums of byte activations x w into sink on the avx512_lut path (the caller checked K and that
/// the path is allowed and supported).
template <class Sink>
void lut_byte_sums(const byte_activations& a, const packed_weights_view& w, Sink& sink, gemm_context& ctx) {
  ctx.last_path = path::avx512_lut;
  if (a.rows() * w.cols() == 0) return;
  if (w.k() > lut_max_k) {
    throw error(message("anybit: the avx512_lut path takes K up to ", lut_max_k, ", got K = ", w.k()));
  }
  std::unique_ptr<lut_weights> scratch;
  const lut_weights& lw = lut_form(w, scratch);
  // Every row's tables first (K * 8 bytes a row), then each column group serves every row.
  const std::size_t per_step = lut::tables_per_step(a.bits()), real_steps = ceil_div(w.k(), lut::k_step);
  const std::size_t row_tables = lw.steps * per_step * 64;
  aligned_buffer<std::uint8_t> tables(a.rows() * row_tables);  // zero: the padding steps stay zero
  for (std::size_t m = 0; m < a.rows(); ++m) lut::build_tables(a.row(m), real_steps, a.bits(), tables.data() + m * row_tables);
  const bool high = per_step == 4;
  const auto work = [&](std::size_t p_begin, std::size_t p_end) {
    constexpr std::size_t panels_per_group = lut::group_columns / kernels::panel_width;
    alignas(64) std::int64_t row[lut::group_columns];
    alignas(64) std::uint32_t sums[lut::group_columns];
    for (std::size_t g = p_begin / panels_per_group; g < ceil_div(p_end, panels_per_group); ++g) {
      const std::size_t n0 = g * lut::group_columns, cols = std::min(lut::group_columns, w.cols() - n0);
      for (std::size_t m = 0; m < a.rows(); ++m) {
        const std::uint8_t* t = tables.data() + m * row_tables;
        for (int j = 0; j < lw.bits; ++j) {
          high ? lut::group_sums<true>(t, lw.plane_group(j, g), lw.steps, sums)
               : lut::group_sums<false>(t, lw.plane_group(j, g), lw.steps, sums);
          for (std::size_t c = 0; c < cols; ++c) row[c] = (j == 0 ? 0 : row[c]) + (std::int64_t{sums[c]} << j);
        }
        sink.take(row, lut::group_columns, m, 1, n0, cols);
      }
    }
  };
  parallel_panels(w.panels(), lut::group_columns / kernels::panel_width, ctx, work);
}

}  // namespace detail

#endif  // ANYBIT_X86_KERNELS

}  // namespace anybit
