// anybit/gemm/lut_gemv.hpp — the table-lookup paths for a GEMV and other few-row products:
// activation codes become per-row tables of k-group sums and each weight plane's nibbles look
// them up, so the cost grows with W, not W * A. avx512_lut looks up with vpshufb
// (kernels/lut_avx512.hpp), avx512_vbmi_lut with vpermb and sums with vpdpbusd
// (kernels/lut_avx512_vbmi.hpp); both read the same tables and share this driver.
//
// Weights get a layout per kernel, built once per packed_weights and nested width and cached
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
#include "anybit/kernels/lut_avx512_vbmi.hpp"

namespace anybit {

/// Largest K the lookup paths take: their per-plane column sums are 32-bit (K * 255 < 2^32).
inline constexpr std::size_t lut_max_k = std::size_t{1} << 24;

#if ANYBIT_X86_KERNELS

namespace detail {

namespace lut = kernels::avx512_lut;

// The two lookup kernels, as the driver sees them: path, cache slot, kc steps of the layouts for
// K, where the weight byte of column c (of a 64-column group) at groups 8kc + t and 8kc + 4 + t
// goes within a kc step, and the kernel itself.
struct vpshufb_lookup {
  static constexpr path which = path::avx512_lut;
  static constexpr std::size_t slot = derived_forms::lut_slot;
  // Padded to pairs: the kernel widens every two steps (zero weights and zero tables).
  static std::size_t steps(std::size_t k) { return round_up(ceil_div(k, lut::k_step), std::size_t{2}); }
  static std::size_t weight_byte(std::size_t c, std::size_t t) { return (c / 16) * 64 + 16 * t + c % 16; }
  static void group_sums(bool high, const std::uint8_t* tables, const std::uint8_t* weights, std::size_t steps,
                         std::uint32_t* sums) {
    high ? lut::group_sums<true>(tables, weights, steps, sums) : lut::group_sums<false>(tables, weights, steps, sums);
  }
};

struct vpermb_lookup {
  static constexpr path which = path::avx512_vbmi_lut;
  static constexpr std::size_t slot = derived_forms::vbmi_lut_slot;
  static std::size_t steps(std::size_t k) { return ceil_div(k, lut::k_step); }
  static std::size_t weight_byte(std::size_t c, std::size_t t) { return (c / 16) * 64 + 4 * (c % 16) + t; }
  static void group_sums(bool high, const std::uint8_t* tables, const std::uint8_t* weights, std::size_t steps,
                         std::uint32_t* sums) {
    namespace vbmi = kernels::avx512_vbmi_lut;
    high ? vbmi::group_sums<true>(tables, weights, steps, sums) : vbmi::group_sums<false>(tables, weights, steps, sums);
  }
};

/// Weights in a lookup kernel's layout (per 64-column group, per plane, per kc step, 4 vectors
/// of 16 columns; bytes placed by Kernel::weight_byte), zero past N and K. Group-major: a GEMV
/// reads the whole layout as one sequential stream (the vpermb kernel prefetches along it).
template <class Kernel>
struct lut_weights {
  std::size_t cols, groups, steps;
  int bits;
  aligned_buffer<std::uint8_t> data;

  explicit lut_weights(const packed_weights_view& w)
      : cols(w.cols()), groups(ceil_div(w.cols(), lut::group_columns)), steps(Kernel::steps(w.k())), bits(w.bits()),
        data(static_cast<std::size_t>(bits) * groups * group_stride()) {
    const std::size_t real_steps = ceil_div(w.k(), lut::k_step);
    for (int j = 0; j < bits; ++j) {
      for (std::size_t n = 0; n < cols; ++n) {
        std::uint8_t* group = plane_group(j, n / lut::group_columns);
        const std::size_t c = n % lut::group_columns;
        for (std::size_t s = 0; s < real_steps; ++s) {
          const std::uint64_t word = w.word(j, n, s / 2) >> (32 * (s % 2));  // k = 32s .. 32s + 31
          for (std::size_t t = 0; t < 4; ++t) {
            const auto low = static_cast<std::uint8_t>((word >> (4 * t)) & 0xF);
            const auto high = static_cast<std::uint8_t>((word >> (4 * t + 16)) & 0xF);
            group[s * lut::step_bytes + Kernel::weight_byte(c, t)] = static_cast<std::uint8_t>(low | high << 4);
          }
        }
      }
    }
  }
  std::size_t group_stride() const { return steps * lut::step_bytes; }
  std::uint8_t* plane_group(int j, std::size_t g) { return data.data() + (g * static_cast<std::size_t>(bits) + static_cast<std::size_t>(j)) * group_stride(); }
  const std::uint8_t* plane_group(int j, std::size_t g) const {
    return data.data() + (g * static_cast<std::size_t>(bits) + static_cast<std::size_t>(j)) * group_stride();
  }
};

/// Sums of byte activations x w into sink on Kernel's lookup path (the caller checked that the
/// path is allowed and supported).
template <class Kernel, class Sink>
void lut_sums_with(const byte_activations& a, const packed_weights_view& w, Sink& sink, gemm_context& ctx) {
  ctx.last_path = Kernel::which;
  if (a.rows() * w.cols() == 0) return;
  if (w.k() > lut_max_k) {
    throw error(message("anybit: the ", path_name(Kernel::which), " path takes K up to ", lut_max_k, ", got K = ", w.k()));
  }
  // Built once per packed_weights and nested width (thread-safe); a bare view gets a private copy.
  std::unique_ptr<lut_weights<Kernel>> scratch;
  const lut_weights<Kernel>& lw = derived_form(w, Kernel::slot, scratch);
  // Every row's tables first (K * 8 bytes a row), then each column group serves every row.
  const std::size_t per_step = lut::tables_per_step(a.bits()), real_steps = ceil_div(w.k(), lut::k_step);
  const std::size_t row_tables = lw.steps * per_step * 64;
  aligned_buffer<std::uint8_t> tables(a.rows() * row_tables);  // zero: any padding steps stay zero
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
          Kernel::group_sums(high, t, lw.plane_group(j, g), lw.steps, sums);
          for (std::size_t c = 0; c < cols; ++c) row[c] = (j == 0 ? 0 : row[c]) + (std::int64_t{sums[c]} << j);
        }
        sink.take(row, lut::group_columns, m, 1, n0, cols);
      }
    }
  };
  parallel_panels(w.panels(), lut::group_columns / kernels::panel_width, ctx, work);
}

/// Sums of byte activations x w into sink on lookup path p (avx512_lut or avx512_vbmi_lut).
template <class Sink>
void lut_byte_sums(path p, const byte_activations& a, const packed_weights_view& w, Sink& sink, gemm_context& ctx) {
  if (p == path::avx512_vbmi_lut) return lut_sums_with<vpermb_lookup>(a, w, sink, ctx);
  lut_sums_with<vpshufb_lookup>(a, w, sink, ctx);
}

}  // namespace detail

#endif  // ANYBIT_X86_KERNELS

}  // namespace anybit
